// ci/deploy-agent.sh: the deploy key from a workflow's secret into an SSH agent, never a file.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "../../../ci/deploy-agent.sh");

describe("ci/deploy-agent.sh", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-deploy-agent-"));
  const keyPath = path.join(dir, "key");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "deploy-test", "-f", keyPath]);
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync("bash", [SCRIPT, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", RUNNER_TEMP: dir, GITHUB_ENV: path.join(dir, "env"), ...env },
      encoding: "utf8",
    });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("holds the key in an agent the later steps find, writes no key file, and stops it", () => {
    const r = run(["start", "THE_KEY"], { THE_KEY: fs.readFileSync(keyPath, "utf8") });
    assert.equal(r.status, 0, r.stderr);
    const env = Object.fromEntries(
      fs
        .readFileSync(path.join(dir, "env"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split("=", 2) as [string, string]),
    );
    const listed = spawnSync("ssh-add", ["-l"], { env: { SSH_AUTH_SOCK: env.SSH_AUTH_SOCK }, encoding: "utf8" });
    assert.match(listed.stdout, /deploy-test \(ED25519\)/);
    const files = fs.readdirSync(dir).filter((f) => !["key", "key.pub", "env"].includes(f));
    for (const f of files) assert.ok(fs.statSync(path.join(dir, f)).isSocket(), `${f} is the agent's socket, not a key`);
    assert.equal(run(["stop"], { SSH_AGENT_PID: env.SSH_AGENT_PID }).status, 0);
    for (let i = 0; i < 50 && fs.existsSync(`/proc/${env.SSH_AGENT_PID}`); i++) execFileSync("sleep", ["0.1"]);
    assert.equal(fs.existsSync(`/proc/${env.SSH_AGENT_PID}`), false, "the agent is gone");
  });

  it("refuses an empty secret", () => {
    const r = run(["start", "THE_KEY"], { THE_KEY: "" });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /THE_KEY is empty/);
  });
});
