import { strict as assert } from "node:assert";
import { isMemberSlot, orphanedSlots } from "../../../components/slotCleanup";
import { HostObservation, SlotSeen, parseSlots } from "../../../observe/hosts";
import { clusterSpec } from "../fixtures";

import { plain, registered, reset, value } from "../../support/mocks";
import { clusterArgs } from "./scenarios";

// Imported after the mocks are set, so that every resource goes to them.
const { PostgresCluster } = require("../../../components/cluster") as typeof import("../../../components/cluster");

const slot = (name: string, over: Partial<SlotSeen> = {}): SlotSeen => ({
  name,
  type: "physical",
  active: false,
  restartLsn: "0/3000148",
  ...over,
});
const leader = (slots: SlotSeen[] | undefined, over: Partial<HostObservation> = {}): HostObservation => ({
  memoryMiB: 4096,
  cpus: 2,
  roles: [],
  running: true,
  standby: false,
  systemId: "7431",
  timeline: 1,
  passfileHash: "",
  replicationVerifierHash: "",
  ...(slots ? { slots } : {}),
  ...over,
});

describe("the slots of hosts removed from config", () => {
  it("knows this program's member slots: physical, named as slotName names them", () => {
    assert.ok(isMemberSlot(slot("pgr_pg4")));
    assert.ok(isMemberSlot(slot("pgr_db_eu_1")));
    assert.ok(!isMemberSlot(slot("pgr_appdb_back", { type: "logical" })), "a migration's way back is logical: not a member's");
    assert.ok(!isMemberSlot(slot("barman")), "another tool's slot");
    assert.ok(!isMemberSlot(slot("pgr_PG4")), "slotName never makes upper case");
  });

  it("drops an unused slot whose host left the config, and keeps those of every configured host, down ones included", () => {
    const c = clusterSpec();
    c.hosts[2].down = true;
    const found = orphanedSlots(c, leader([slot("pgr_pg2"), slot("pgr_pg3"), slot("pgr_pg4"), slot("pgr_old_db_1"), slot("backup")]));
    assert.deepEqual(
      found.drop.map((s) => s.name),
      ["pgr_pg4", "pgr_old_db_1"],
    );
    assert.deepEqual(found.inUse, []);
  });

  it("never drops a slot in use: a removed member that still streams keeps it, and is reported", () => {
    const found = orphanedSlots(clusterSpec(), leader([slot("pgr_pg4", { active: true }), slot("pgr_pg5")]));
    assert.deepEqual(
      found.drop.map((s) => s.name),
      ["pgr_pg5"],
    );
    assert.deepEqual(
      found.inUse.map((s) => s.name),
      ["pgr_pg4"],
    );
  });

  it("decides nothing when the leader is not a running primary (a leader change), or its slots were not read", () => {
    const slots = [slot("pgr_pg4")];
    const none = { drop: [], inUse: [] };
    assert.deepEqual(orphanedSlots(clusterSpec(), leader(slots, { standby: true })), none);
    assert.deepEqual(orphanedSlots(clusterSpec(), leader(slots, { running: false })), none);
    assert.deepEqual(orphanedSlots(clusterSpec(), leader(undefined)), none);
    assert.deepEqual(orphanedSlots(clusterSpec(), undefined), none);
  });

  it("reads the probe's slots line", () => {
    assert.deepEqual(parseSlots("pgr_pg2:physical:true:0/5000060;pgr_appdb_back:logical:false:"), [
      { name: "pgr_pg2", type: "physical", active: true, restartLsn: "0/5000060" },
      { name: "pgr_appdb_back", type: "logical", active: false, restartLsn: "" },
    ]);
    assert.deepEqual(parseSlots(""), []);
    assert.equal(parseSlots(undefined), undefined);
  });

  it("lists the slots to drop in the leader's step input, so that a preview --diff shows them", async () => {
    reset();
    const args = clusterArgs();
    args.observations.pg1 = { ...args.observations.pg1, slots: [slot("pgr_pg2", { active: true }), slot("pgr_pg4")] };
    const cluster = new PostgresCluster("main", args);
    await value(cluster.hostReports);
    const steps = registered.filter((r) => r.name.endsWith("-drop-slots"));
    assert.deepEqual(
      steps.map((r) => r.name),
      ["main-pg1-drop-slots"],
    );
    assert.equal(plain(steps[0].inputs.connection).host, "10.77.0.11", "on the leader");
    assert.match(plain(steps[0].inputs.stdin), /^slots=\(pgr_pg4@0\/3000148\)$/m);
  });
});
