import { strict as assert } from "node:assert";
import { followerNote } from "../../../components/standbySteps";
import { HostObservation } from "../../../observe/hosts";

const seen = (o: Partial<HostObservation>): HostObservation => ({
  memoryMiB: 4096,
  cpus: 2,
  roles: [],
  running: true,
  standby: true,
  systemId: "7431",
  timeline: 1,
  passfileHash: "",
  replicationVerifierHash: "",
  followed: true,
  ...o,
});
const leader = seen({ standby: false });

describe("what a follower's step says it saw (a member not yet a running standby of this cluster runs its step)", () => {
  it("says nothing of a running standby of the leader's system", () => {
    assert.equal(followerNote(seen({}), leader), undefined);
  });

  it("says nothing of a member never made a standby (its step runs anyway)", () => {
    assert.equal(followerNote(seen({ followed: false, running: false, standby: false, systemId: "9999" }), leader), undefined);
  });

  it("tells a stopped member, a primary and another system's member apart", () => {
    const notes = [
      seen({ running: false }),
      seen({ standby: false }),
      seen({ systemId: "9999" }),
      seen({ running: false, systemId: "9999" }),
    ].map((o) => followerNote(o, leader));
    for (const n of notes) assert.ok(n, "a note");
    assert.equal(new Set(notes).size, notes.length, notes.join("\n"));
    assert.match(notes[3]!, /stopped, a standby, system 9999 \(the leader's is 7431\)/);
  });
});
