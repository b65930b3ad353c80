// ci/key-file.sh: a key from a workflow's secret to a file only its user can read.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "../../../ci/key-file.sh");

function keyFile(file: string, value: string | undefined) {
  return spawnSync("bash", [SCRIPT, "THE_KEY", file], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...(value === undefined ? {} : { THE_KEY: value }) },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("ci/key-file.sh", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-key-file-"));

  it("writes the key, ending in one newline, readable by its user alone", () => {
    const file = path.join(dir, "new", "id_ed25519");
    const r = keyFile(file, "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.readFileSync(file, "utf8"), "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  });

  it("replaces a key left readable by others with a 0600 one", () => {
    const file = path.join(dir, "old_key");
    fs.writeFileSync(file, "old\n", { mode: 0o644 });
    assert.equal(keyFile(file, "new\n").status, 0);
    assert.equal(fs.readFileSync(file, "utf8"), "new\n");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  });

  it("refuses an empty or missing secret, and writes nothing", () => {
    for (const value of ["", undefined]) {
      const file = path.join(dir, `none-${value}`);
      const r = keyFile(file, value);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /key-file: THE_KEY is empty/);
      assert.equal(fs.existsSync(file), false);
    }
  });
});
