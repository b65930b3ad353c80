import { strict as assert } from "node:assert";
import { MigrationSpec } from "../../../config";
import { wayBackProblems } from "../../../config/wayBackGuard";
import { clusterSpec } from "../fixtures";

const migration = (phase: MigrationSpec["phase"], wayBack = true): MigrationSpec => ({
  source: { address: "10.77.0.10", port: 5432, database: "appdb", user: "migrator", sslmode: "require" },
  target: { cluster: "main", database: "appdb" },
  tables: [],
  phase,
  sequenceMargin: 0,
  wayBack,
  checksums: "in-pause",
});
const seen = [{ pg1: { running: true, standby: false }, pg2: { running: true, standby: true }, pg3: { running: true, standby: true } }];

describe("the way back and a switchover of the target", () => {
  it("refuses a planned switchover while the way back is open, saying what to do first", () => {
    const found = wayBackProblems(migration("cutover"), [clusterSpec({ leader: "pg2" })], seen);
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /^pg-replication:clusters\[0\]\.leader: pg2 would take over from pg1 while the migration's way back is open; .*set migration\.phase to complete \(or revert\) first/,
    );
  });

  it("lets it be when the leader stays, the way back is closed or absent, or the leader failed", () => {
    assert.deepEqual(wayBackProblems(migration("cutover"), [clusterSpec()], seen), []);
    assert.deepEqual(wayBackProblems(migration("complete"), [clusterSpec({ leader: "pg2" })], seen), []);
    assert.deepEqual(wayBackProblems(migration("cutover", false), [clusterSpec({ leader: "pg2" })], seen), []);
    const failed = clusterSpec({ leader: "pg2" });
    failed.hosts = failed.hosts.map((h) => (h.name === "pg1" ? { ...h, down: true } : h));
    assert.deepEqual(wayBackProblems(migration("cutover"), [failed], seen), []);
  });
});
