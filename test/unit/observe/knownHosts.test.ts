import { strict as assert } from "node:assert";
import { findHostKey, hostKeyProblem } from "../../../observe/knownHosts";

describe("findHostKey", () => {
  const knownHosts =
    "# comment\n10.77.0.11 ssh-ed25519 AAAAkey1\n10.77.0.12,pg2 ssh-ed25519 AAAAkey2\n[10.77.0.13]:2222 ssh-rsa AAAAkey3\n";
  it("finds a key by address, in a list of names, or with a port", () => {
    assert.equal(findHostKey(knownHosts, "10.77.0.11"), "ssh-ed25519 AAAAkey1");
    assert.equal(findHostKey(knownHosts, "10.77.0.12"), "ssh-ed25519 AAAAkey2");
    assert.equal(findHostKey(knownHosts, "10.77.0.13", 2222), "ssh-rsa AAAAkey3");
  });
  it("returns undefined for an unknown host or the wrong port", () => {
    assert.equal(findHostKey(knownHosts, "10.77.0.14"), undefined);
    assert.equal(findHostKey(knownHosts, "10.77.0.13"), undefined);
  });

  it("pins the strongest key a host has: ed25519, then ECDSA, RSA last", () => {
    const several =
      "10.77.0.21 ssh-rsa AAAArsa\n10.77.0.21 ecdsa-sha2-nistp256 AAAAecdsa\n10.77.0.21 ssh-ed25519 AAAAed\n10.77.0.22 ssh-rsa AAAArsa2\n10.77.0.22 ecdsa-sha2-nistp256 AAAAecdsa2\n";
    assert.equal(findHostKey(several, "10.77.0.21"), "ssh-ed25519 AAAAed");
    assert.equal(findHostKey(several, "10.77.0.22"), "ecdsa-sha2-nistp256 AAAAecdsa2");
  });
  it("names an RSA-only host with the fix: the SSH steps would pin it as ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse", () => {
    assert.equal(hostKeyProblem("ssh-ed25519 AAAAkey1", "10.77.0.11", "/keys/known_hosts"), undefined);
    assert.equal(hostKeyProblem("ecdsa-sha2-nistp256 AAAAk", "10.77.0.11", "/keys/known_hosts"), undefined);
    assert.equal(
      hostKeyProblem("ssh-rsa AAAAkey3", "10.77.0.13", "/keys/known_hosts"),
      "/keys/known_hosts has only an RSA key for 10.77.0.13: the host steps (@pulumi/command) would pin it as ssh-rsa, the SHA-1 signature that OpenSSH 8.8 and later refuse, so every step would fail; add the host's ed25519 key (ssh-keyscan -t ed25519 10.77.0.13, checked against the host)",
    );
  });
});
