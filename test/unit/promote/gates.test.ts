import { strict as assert } from "node:assert";
import { configDifferences, destructive, healthProblems, historyProblem, migrationProblem } from "../../../promote/gates";

const HEAD = "0123456789abcdef0123456789abcdef01234567";
const update = (result: string, head = HEAD, dirty = "false") => ({
  kind: "update",
  result,
  environment: { "git.head": head, "git.dirty": dirty },
});

describe("the promotion's gates", () => {
  it("lets through only a last update that succeeded at this commit from a clean checkout", () => {
    assert.equal(historyProblem("staging", [update("succeeded"), update("failed")], HEAD), undefined);
    assert.equal(historyProblem("staging", [{ kind: "refresh", result: "failed" }, update("succeeded")], HEAD), undefined);
    assert.match(historyProblem("staging", [update("failed"), update("succeeded")], HEAD)!, /last update failed/);
    assert.match(
      historyProblem("staging", [update("succeeded", "f".repeat(40))], HEAD)!,
      /ran at commit ffffffffffff, not at 0123456789ab/,
    );
    assert.match(historyProblem("staging", [update("succeeded", HEAD, "true")], HEAD)!, /uncommitted changes/);
    assert.match(historyProblem("staging", [], HEAD)!, /never been updated/);
  });

  it("names a standby that is not streaming or too far behind", () => {
    const streaming = {
      state: "streaming",
      slot: "",
      slotActive: true,
      walStatus: "reserved",
      retainedWalBytes: 0,
      sentLagBytes: 0,
      writeLagSeconds: 0,
      replayLagSeconds: 0,
    };
    const state = {
      leader: "stg1",
      standbys: { stg2: { ...streaming, replayLagBytes: 10 }, stg3: { ...streaming, replayLagBytes: 5000 } },
    };
    assert.deepEqual(healthProblems("staging", "main", state, ["stg2"], 100), []);
    assert.match(healthProblems("staging", "main", state, ["stg2", "stg3"], 100)[0], /standby stg3 is 5000 bytes behind/);
    assert.match(healthProblems("staging", "main", state, ["stg4"], 100)[0], /standby stg4 is not connected, not streaming/);
    assert.match(migrationProblem("staging", { phase: "cutover" })!, /middle of a migration cutover/);
    assert.equal(migrationProblem("staging", { phase: "cutover", cutoverReport: {} }), undefined);
  });

  it("shows configuration differences beyond hosts, addresses and secrets", () => {
    const cluster = (hosts: string[], maxConnections: number, extra: Record<string, unknown> = {}) => ({
      name: "main",
      leader: hosts[0],
      hosts: hosts.map((h) => ({ name: h, address: `${h}.example.edu` })),
      clients: [{ database: "appdb", user: "app", address: "10.0.0.0/24" }],
      settings: { max_connections: maxConnections, ...extra },
    });
    const from = { "pg-replication:clusters": [cluster(["stg1", "stg2"], 100, { work_mem: "8MB" })] };
    const to = { "pg-replication:clusters": [cluster(["prod1", "prod2", "prod3"], 100)], "pg-replication:protect": true };
    assert.deepEqual(configDifferences("staging", from, "production", to), [
      'pg-replication:clusters[0].settings.work_mem: staging "8MB", production (unset)',
      "pg-replication:protect: staging (unset), production true",
    ]);
  });

  it("counts a delete or replace of a data-bearing resource as destructive, not a step's delete", () => {
    const change = (op: string, type: string, name: string) => ({ op, type, name, diffs: [], oldInputs: {}, newInputs: {} });
    assert.deepEqual(
      destructive("production", [
        change("replace", "postgresql:index/role:Role", "main-replication"),
        change("delete", "command:remote:Command", "main-pg2-follow"),
        change("update", "postgresql:index/role:Role", "main-admin"),
      ]),
      ["`production` main-replication: replace of a Role"],
    );
  });

  it("counts a standby rebuild, a leader change and a cutover as destructive; a restart is not", () => {
    const step = (name: string, op: string, before: string, after: string) => ({
      op,
      type: "command:remote:Command",
      name,
      diffs: ["stdin"],
      oldInputs: { stdin: before },
      newInputs: { stdin: after },
    });
    const found = destructive("production", [
      step("main-pg3-follow", "update", "token=''\n", "token=2026-12-02\n"),
      step("main-lead", "update", "# pg-replication: the leader on pg1\n", "# pg-replication: the leader on pg2\n"),
      step("migration-cutover", "create", "", "x"),
      step("main-pg2-apply", "update", "max_connections = 100\n", "max_connections = 200\n"),
    ]);
    assert.equal(found.length, 3, found.join("\n"));
    assert.match(found.join("\n"), /standby rebuild[\s\S]*leader change[\s\S]*migration cutover/);
  });
});
