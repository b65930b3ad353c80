import { strict as assert } from "node:assert";
import { findHostKey } from "../../../observe/knownHosts";

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
});
