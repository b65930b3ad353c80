import { strict as assert } from "node:assert";
import { unconfirmed } from "../../../config/confirm";
import { MigrationSpec, StackSpec } from "../../../config";
import { clusterSpec } from "../fixtures";

const spec = (over: Partial<StackSpec>, leader = "pg1", rebuild?: string): StackSpec => {
  const c = clusterSpec();
  return {
    clusters: [{ ...c, leader, hosts: c.hosts.map((h) => (h.name === "pg3" && rebuild ? { ...h, rebuild } : h)) }],
    protect: true,
    confirm: [],
    ...over,
  };
};
const seen = (leaderStandby: boolean, rebuilt = "") => [
  {
    pg1: { running: true, standby: false },
    pg2: { running: true, standby: leaderStandby },
    pg3: { running: true, standby: true, rebuilt },
  },
];

describe("a protected stack's destructive steps", () => {
  it("refuses a leader change and a new rebuild token unless confirm names them", () => {
    const found = unconfirmed(spec({}, "pg2", "2026-12-02"), seen(true));
    assert.deepEqual(found, [
      'pg-replication:confirm: this update would take "leader main pg2" on a protected stack: add "leader main pg2" to pg-replication:confirm to let it',
      'pg-replication:confirm: this update would take "rebuild main pg3" on a protected stack: add "rebuild main pg3" to pg-replication:confirm to let it',
    ]);
    assert.deepEqual(unconfirmed(spec({ confirm: ["leader main pg2", "rebuild main pg3"] }, "pg2", "2026-12-02"), seen(true)), []);
  });

  it("takes a token already run with, an unchanged leader, and any step on an unprotected stack", () => {
    assert.deepEqual(unconfirmed(spec({}, "pg1", "2026-12-02"), seen(false, "2026-12-02")), []);
    assert.deepEqual(unconfirmed(spec({ protect: false }, "pg2", "x"), seen(true)), []);
  });
});

describe("a protected stack's migration cutover", () => {
  const migration = (phase: MigrationSpec["phase"]): MigrationSpec => ({
    source: { address: "10.77.0.10", port: 5432, database: "legacy", user: "migrator", sslmode: "require" },
    target: { cluster: "main", database: "appdb" },
    tables: [],
    phase,
    sequenceMargin: 1000,
    wayBack: false,
    checksums: "in-pause",
  });
  const line =
    'pg-replication:confirm: this update would take "cutover main appdb" on a protected stack: add "cutover main appdb" to pg-replication:confirm to let it';
  const running = seen(false);

  it("refuses a cutover ahead (the source still feeds the subscription) unless confirm names it", () => {
    assert.deepEqual(unconfirmed(spec({ migration: migration("cutover") }), running, { cutoverAhead: true }), [line]);
    assert.deepEqual(
      unconfirmed(spec({ migration: migration("cutover"), confirm: ["cutover main appdb"] }), running, { cutoverAhead: true }),
      [],
    );
  });

  it("refuses one it cannot rule out (the source not read), saying so", () => {
    const [found] = unconfirmed(spec({ migration: migration("complete") }), running, { cutoverAhead: undefined });
    assert.match(found, /^pg-replication:confirm: this update may take "cutover main appdb" on a protected stack/);
    assert.match(found, /add "cutover main appdb" to pg-replication:confirm to let it$/);
  });

  it("takes a cutover that has run, the sync phase, and any phase on an unprotected stack", () => {
    assert.deepEqual(unconfirmed(spec({ migration: migration("cutover") }), running, { cutoverAhead: false }), []);
    assert.deepEqual(unconfirmed(spec({ migration: migration("sync") }), running, { cutoverAhead: true }), []);
    assert.deepEqual(unconfirmed(spec({ migration: migration("cutover"), protect: false }), running, { cutoverAhead: true }), []);
  });
});
