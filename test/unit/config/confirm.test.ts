import { strict as assert } from "node:assert";
import { unconfirmed } from "../../../config/confirm";
import { StackSpec } from "../../../config";
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
