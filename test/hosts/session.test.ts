// L8: a step cancelled hard (the program killed, its connection cut) must not leave its script
// running on the host with nobody to read it. Over real SSH on sandbox host pg4: a script that
// has changed a file is cut off by killing its ssh client; the host puts the file back, ends what
// the script ran, and frees its lock.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RUN_SCRIPT_AS_ROOT } from "../../render/sshCommands";
import { sandbox, ssh, sshOk } from "../support/sandbox";

const HOST = "pg4";
const FILE = "/var/lib/postgresql/pgr-session-test";
// a pattern no other process on this machine has: the sandbox hosts share its processes
const MARK = "sleep 61.4321";
const hostFile = (name: string) => readFileSync(join(__dirname, "..", "..", "host", name), "utf8");

/** A host script as the renderer assembles one, with BODY as the verb's work between begin and commit. */
function script(body: string, lockWait = 300): string {
  return [
    "set -euo pipefail",
    `host=${HOST}`,
    "pgbin=/usr/lib/postgresql/15/bin",
    "datadir=/var/lib/postgresql/15/main",
    "cluster=(15 main)",
    `lock_wait=${lockWait}`,
    hostFile("session.sh"),
    hostFile("lib.sh"),
    "rollback() { restore_files; }",
    `main() {\n  begin\n${body}\n  committed=yes\n}`,
    "main",
  ].join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fileOnHost = () => sshOk(HOST, `sudo -n cat ${FILE}`).trim();
const marked = () => ssh(HOST, `pgrep -f -x '${MARK}'`).stdout.trim();

describe("a host step whose ssh session is cut (sandbox)", function () {
  this.timeout(120_000);

  before(() => sshOk(HOST, `printf 'before\\n' | sudo -n -u postgres tee ${FILE} >/dev/null`));
  after(() => ssh(HOST, `sudo -n rm -f ${FILE} ${FILE}.pg-replication.prev; sudo -n pkill -f -x '${MARK}' || true`));

  it("puts the host back, ends what the script ran and frees the lock, without waiting for the script", async () => {
    const client = spawn("ssh", ["-F", sandbox().sshConfigPath, HOST, RUN_SCRIPT_AS_ROOT], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    client.stdout.on("data", (d: Buffer) => (out += d.toString()));
    client.stderr.on("data", (d: Buffer) => (out += d.toString()));
    client.stdin.end(
      script(`  step="a step cut short"
  printf 'during\\n' >"$tmp/new"
  install_file "$tmp/new" ${FILE} 0600
  say "changed, now waiting"
  ${MARK}`),
    );
    for (let i = 0; i < 100 && !out.includes("changed, now waiting"); i++) await sleep(100);
    assert.match(out, /changed, now waiting/, out);
    assert.equal(fileOnHost(), "during");
    assert.notEqual(marked(), "", "the script's long command runs");

    client.kill("SIGKILL");
    let back = false;
    for (let i = 0; i < 40 && !back; i++) {
      await sleep(250);
      back = fileOnHost() === "before" && marked() === "";
    }
    assert.equal(fileOnHost(), "before", "the file the step changed is put back");
    assert.equal(marked(), "", "what the script ran has ended");
    assert.equal(sshOk(HOST, `sudo -n ls ${FILE}.pg-replication.prev 2>/dev/null || true`).trim(), "");
    const next = ssh(HOST, RUN_SCRIPT_AS_ROOT, script('  say "ran"', 2));
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stdout, /pg-replication on pg4: ran/);
  });

  it("does not make the script's own wait wait for the watcher", () => {
    const r = ssh(HOST, RUN_SCRIPT_AS_ROOT, script('  sleep 0.2 &\n  wait -n\n  wait -n || true\n  say "waited"'), 20_000);
    assert.equal(r.code, 0, r.stderr || "the script's wait never returned");
    assert.match(r.stdout, /pg-replication on pg4: waited/);
  });

  it("leaves a step that ends while connected as it was: committed, nothing killed", () => {
    const r = ssh(HOST, RUN_SCRIPT_AS_ROOT, script(`  printf 'kept\\n' >"$tmp/new"\n  install_file "$tmp/new" ${FILE} 0600`));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fileOnHost(), "kept");
  });
});
