import { strict as assert } from "node:assert";
import { PrimarySeen, otherPrimaries, primaryProblems } from "../../../config/primaries";
import { clusterSpec } from "../fixtures";

const primary = (timeline: number, over: Partial<PrimarySeen> = {}): PrimarySeen => ({
  running: true,
  standby: false,
  systemId: "7431",
  timeline,
  ...over,
});
const standby = (timeline: number, over: Partial<PrimarySeen> = {}): PrimarySeen => ({ ...primary(timeline), standby: true, ...over });

describe("one primary per cluster", () => {
  it("passes a converged cluster, and a fresh host that runs a primary of another system", () => {
    const c = clusterSpec();
    assert.deepEqual(primaryProblems(c, { pg1: primary(1), pg2: standby(1), pg3: standby(1) }, 0), []);
    assert.deepEqual(primaryProblems(c, { pg1: primary(1), pg2: standby(1), pg3: primary(1, { systemId: "9999" }) }, 0), []);
  });

  it("stops on a member promoted by hand beside the running leader, naming it and both ways out", () => {
    const [problem, ...rest] = primaryProblems(clusterSpec(), { pg1: primary(1), pg2: standby(1), pg3: primary(2) }, 0);
    assert.deepEqual(rest, []);
    // the message of the earlier stale-leader check, kept: it starts the same
    assert.match(
      problem,
      /^pg-replication:clusters\[0\]\.leader: pg1 is a primary on timeline 1, behind pg3 on timeline 2 \(promoted while pg1 was away\)/,
    );
    assert.match(problem, /set pg-replication:clusters\[0\]\.leader to pg3 to adopt it: no copy is made, pg3 goes on as it is/);
    assert.match(problem, /stop postgresql on pg3 and set pg-replication:clusters\[0\]\.hosts\[2\]\.rebuild to a new token to keep pg1/);
    assert.match(problem, /what pg3 took since its promotion is lost/);
  });

  it("reads a just-promoted member's own timeline, not its latest checkpoint's", () => {
    // promoted by hand a moment ago: its checkpoint still says timeline 1
    const seen = { pg1: primary(1, { currentTimeline: 1 }), pg2: primary(1, { currentTimeline: 2 }), pg3: standby(1) };
    assert.match(primaryProblems(clusterSpec(), seen, 0)[0], /behind pg2 on timeline 2/);
  });

  it("stops on two primaries on one timeline (a split, or a timeline read from checkpoints alone)", () => {
    const [problem] = primaryProblems(clusterSpec(), { pg1: primary(3), pg2: primary(3), pg3: standby(3) }, 0);
    assert.match(
      problem,
      /^pg-replication:clusters\[0\]\.leader: pg2 runs as a primary too \(promoted by hand\?\), on timeline 3 like pg1/,
    );
    assert.match(problem, /hosts\[1\]\.rebuild/);
  });

  it("stops when the leader is a stopped primary and another member was promoted meanwhile", () => {
    const [problem] = primaryProblems(clusterSpec(), { pg1: primary(1, { running: false }), pg2: primary(2), pg3: standby(1) }, 0);
    assert.match(problem, /pg1 is stopped \(a primary, last on timeline 1\) and pg2 runs as a primary of its system on timeline 2/);
    assert.match(problem, /starting pg1 would make two primaries/);
    assert.match(problem, /set pg-replication:clusters\[0\]\.leader to pg2 to adopt it: no copy is made/);
  });

  it("lets the demote step stop a stale former primary, and a switchover's former leader", () => {
    const c = clusterSpec();
    // pg2 back after a failover to pg1 (timeline 2): behind, its demote step stops it
    assert.deepEqual(primaryProblems(c, { pg1: primary(2), pg2: primary(1), pg3: standby(2) }, 0), []);
    // leader: pg2, a standby now: pg1 is the leader it takes over from
    assert.deepEqual(primaryProblems({ ...c, leader: "pg2" }, { pg1: primary(1), pg2: standby(1), pg3: standby(1) }, 0), []);
  });

  it("stops a switchover when two other members run as primaries: the leader to be can follow only one", () => {
    const seen = { pg1: primary(1), pg2: standby(1), pg3: primary(2) };
    const [problem] = primaryProblems({ ...clusterSpec(), leader: "pg2" }, seen, 0);
    assert.match(
      problem,
      /pg1 \(timeline 1\), pg3 \(timeline 2\) all run as primaries of this cluster while pg2, the leader to be, is a standby/,
    );
  });

  it("leaves out members marked down or unobserved, and a leader never initialised", () => {
    const c = clusterSpec();
    c.hosts[2].down = true;
    assert.deepEqual(otherPrimaries(c, { pg1: primary(1), pg2: standby(1), pg3: primary(2) }), []);
    assert.deepEqual(otherPrimaries(clusterSpec(), { pg1: primary(1), pg2: standby(1) }), []);
    assert.deepEqual(otherPrimaries(clusterSpec(), { pg1: primary(0, { systemId: "" }), pg2: primary(1), pg3: primary(1) }), []);
  });
});
