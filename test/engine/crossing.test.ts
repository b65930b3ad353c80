// A stack brought up by the code as it was before host scripts became files (eb0586b), then
// previewed and updated by today's: only updates in place (no replace, no delete, no create), no
// server restarted, no data directory copied, and converged after.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DEV_PASSPHRASE } from "../support/devStack";
import { EngineProject } from "../support/engine";
import { dataDirectory, startTime } from "../support/hosts";

const ROOT = path.resolve(__dirname, "../..");
const BEFORE = "eb0586b";
const OLD_PROGRAM = ["index.ts", "config.ts", "tsconfig.json", "package.json", "components", "render", "observe", "lib", "migrate"];
const members = ["pg1", "pg2", "pg3"];

describe(`a stack brought up by ${BEFORE} crosses to today's code`, function () {
  this.timeout(1_800_000);
  const project = new EngineProject("pg-replication", DEV_PASSPHRASE);
  const old = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-before-"));

  before(() => {
    execFileSync("bash", ["-c", `git -C "${ROOT}" archive ${BEFORE} | tar -x -C "${old}"`]);
    project.useProgram(old, OLD_PROGRAM);
    fs.copyFileSync(path.join(old, "Pulumi.dev.yaml"), project.stackFile("dev"));
    project.initStack("dev");
    project.ok(["up", "--yes", "--stack", "dev"]);
  });
  after(() => {
    project.dispose();
    fs.rmSync(old, { recursive: true, force: true });
  });

  it("previews only updates in place, then updates without a restart or a copy, and converges", () => {
    const started = members.map(startTime);
    const directories = members.map(dataDirectory);
    project.useProgram();
    const preview = JSON.parse(project.ok(["preview", "--json", "--stack", "dev"])) as { steps?: { op: string; urn: string }[] };
    const ops = (preview.steps ?? []).filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    assert.ok(ops.length > 0, "the scripts' text changed");
    // the one step a newer version adds to every cluster: it drops only slots of removed hosts, none here
    const added = ["create main-pg1-drop-slots"];
    assert.deepEqual(
      ops.filter((o) => !o.startsWith("update ") && !added.includes(o)),
      [],
      "no replace, delete or create",
    );
    const out = project.ok(["up", "--yes", "--stack", "dev"]);
    // the steps' own lines (the outputs' diff below them still shows what the first up did)
    const steps = out.split("\n").filter((l) => /^\s*[~+-]\s+command:remote:Command /.test(l));
    assert.deepEqual(
      steps.filter((l) => /restarting postgresql|pg_basebackup|rebuilding/.test(l)),
      [],
    );
    assert.deepEqual(members.map(startTime), started, "no member restarted");
    assert.deepEqual(members.map(dataDirectory), directories, "no data directory replaced");
    const again = project.run(["preview", "--expect-no-changes", "--stack", "dev"]);
    assert.equal(again.code, 0, again.stdout);
  });
});
