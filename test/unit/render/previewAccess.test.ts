import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { OBSERVE_COMMAND, authorizedLine, isPublicKey, renderPreviewAccessScript } from "../../../render/previewAccess";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0Vb6m2j7Zb8cPn1kq0M5p0t3VfF0Xx2QdG1Qe8bqS preview@ci";

describe("the preview identity's access", () => {
  it("forces the observation on the key, with no forwarding or terminal", () => {
    assert.equal(authorizedLine(KEY), `restrict,command="${OBSERVE_COMMAND}" ${KEY}`);
  });

  it("admits the key only from ssh.preview.from when it is set", () => {
    assert.equal(
      authorizedLine(KEY, ["10.77.0.10/32", "fd00::/64"]),
      `restrict,from="10.77.0.10/32,fd00::/64",command="${OBSERVE_COMMAND}" ${KEY}`,
    );
  });

  it("takes one public key line, nothing that could add options or a second key", () => {
    assert.equal(isPublicKey(KEY), true);
    assert.equal(isPublicKey(`${KEY}\n${KEY}`), false);
    assert.equal(isPublicKey(`command="sh" ${KEY}`), false);
    assert.equal(isPublicKey(`${KEY} "quoted"`), false);
    assert.equal(isPublicKey("-----BEGIN OPENSSH PRIVATE KEY-----"), false);
    assert.throws(() => authorizedLine("ssh-ed25519 $(reboot)"));
  });

  it("renders a script bash reads, every value quoted", () => {
    const script = renderPreviewAccessScript({ user: "pgr-preview", publicKey: KEY, probe: "echo 'cpus=1'; echo \"$HOME\"" });
    const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    // the header alone, run: the values come back exactly
    const header = script.split("\n# Installs")[0];
    const echo = spawnSync("bash", ["-c", `${header}\nprintf '%s\\n' "$authorized_line" "$observe_script"`], { encoding: "utf8" });
    assert.equal(
      echo.stdout,
      `restrict,command="${OBSERVE_COMMAND}" ${KEY}\n#!/bin/sh\n# pg-replication: what a preview reads on this host (installed by pulumi up)\necho 'cpus=1'; echo "$HOME"\n\n`,
    );
  });
});
