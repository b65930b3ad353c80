import { strict as assert } from "node:assert";
import { askMembers, fencedToAsk, fencing, promotes } from "../../../config/fencing";
import { PrimarySeen } from "../../../config/primaries";
import { HostSpec } from "../../../config/spec";
import { clusterSpec } from "../fixtures";

const primary = (over: Partial<PrimarySeen> = {}): PrimarySeen => ({
  running: true,
  standby: false,
  systemId: "7431",
  timeline: 1,
  ...over,
});
const standby = (over: Partial<PrimarySeen> = {}): PrimarySeen => primary({ standby: true, ...over });

/** A failover to pg2 with pg1 marked down (and fenced, when asked). */
const failover = (pg1: Partial<HostSpec> = {}) =>
  clusterSpec({
    leader: "pg2",
    hosts: [
      { name: "pg1", address: "10.77.0.11", sshPort: 22, down: true, ...pg1 },
      { name: "pg2", address: "10.77.0.12", sshPort: 22 },
      { name: "pg3", address: "10.77.0.13", sshPort: 22 },
    ],
  });

describe("fencing hosts marked down", () => {
  it("a promotion is one whose leader to be is a standby", () => {
    assert.equal(promotes(standby()), true);
    assert.equal(promotes(standby({ running: false })), true);
    assert.equal(promotes(primary()), false);
    assert.equal(promotes(undefined), false);
  });

  it("fences a down host that answers as a primary of the cluster, running or stopped, with no problem", () => {
    assert.deepEqual(fencing(failover(), standby(), { pg1: primary() }, 0), { fence: ["pg1"], problems: [] });
    assert.deepEqual(fencing(failover(), standby(), { pg1: primary({ running: false }) }, 0), { fence: ["pg1"], problems: [] });
    // converged already: an old leader back as a primary is fenced all the same
    assert.deepEqual(fencing(failover(), primary({ timeline: 2 }), { pg1: primary() }, 0).fence, ["pg1"]);
    // a host stated fenced that answers after all is stopped too
    assert.deepEqual(fencing(failover({ fenced: true }), standby(), { pg1: primary() }, 0).fence, ["pg1"]);
  });

  it("leaves alone a down host that answers as a standby, or holds another system", () => {
    assert.deepEqual(fencing(failover(), standby(), { pg1: standby() }, 0), { fence: [], problems: [] });
    assert.deepEqual(fencing(failover(), standby(), { pg1: primary({ systemId: "9999" }) }, 0), { fence: [], problems: [] });
    assert.deepEqual(fencing(failover(), standby(), { pg1: primary({ systemId: "", running: false }) }, 0), { fence: [], problems: [] });
  });

  it("refuses a promotion while a down host does not answer and is not stated fenced: one line, the host, both ways out", () => {
    const { fence, problems } = fencing(failover(), standby(), { pg1: undefined }, 0);
    assert.deepEqual(fence, []);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0], /\n/);
    assert.match(
      problems[0],
      /^pg-replication:clusters\[0\]\.hosts\[0\]: pg1 is marked down and does not answer over SSH, and pg2 is to be promoted/,
    );
    assert.match(problems[0], /make pg1 reachable \(the update then stops it before the promotion\)/);
    assert.match(
      problems[0],
      /powered off or cut off from clients and members, set pg-replication:clusters\[0\]\.hosts\[0\]\.fenced to true$/,
    );
  });

  it("lets the promotion go on when the unreachable host is stated fenced", () => {
    assert.deepEqual(fencing(failover({ fenced: true }), standby(), {}, 0), { fence: [], problems: [] });
  });

  it("refuses the promotion when a host stated fenced answers on its PostgreSQL port as a primary: one line under its fenced key", () => {
    const { fence, problems } = fencing(failover({ fenced: true }), standby(), {}, 0, { pg1: "primary" });
    assert.deepEqual(fence, []);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0], /\n/);
    assert.match(
      problems[0],
      /^pg-replication:clusters\[0\]\.hosts\[0\]\.fenced: is true, but pg1's PostgreSQL at 10\.77\.0\.11:5432 answers from here as a primary/,
    );
    assert.match(problems[0], /stop it, or cut it off from this machine as well, before pg2 is promoted$/);
    // what cannot write, or does not answer, is consistent with the statement
    for (const answer of ["standby", "no answer", "not logged in"] as const)
      assert.deepEqual(fencing(failover({ fenced: true }), standby(), {}, 0, { pg1: answer }), { fence: [], problems: [] });
    // converged: nothing is promoted on the statement's word
    assert.deepEqual(fencing(failover({ fenced: true }), primary({ timeline: 2 }), {}, 0, { pg1: "primary" }).problems, []);
  });

  it("refuses the promotion when a host stated fenced, silent here, answers a member as a primary: cut off from this machine alone", () => {
    const { fence, problems } = fencing(
      failover({ fenced: true }),
      standby(),
      {},
      0,
      { pg1: "no answer" },
      { pg1: { pg2: "no answer", pg3: "primary" } },
    );
    assert.deepEqual(fence, []);
    assert.equal(problems.length, 1);
    assert.doesNotMatch(problems[0], /\n/);
    assert.match(
      problems[0],
      /^pg-replication:clusters\[0\]\.hosts\[0\]\.fenced: is true, but pg1's PostgreSQL at 10\.77\.0\.11:5432 answers pg3 as a primary \(this machine cannot reach it\)/,
    );
    assert.match(problems[0], /stop it, or cut it off from the members as well, before pg2 is promoted$/);
    // what the members see of a host that cannot write, or does not answer them, is consistent with the statement
    for (const answer of ["standby", "no answer", "not logged in"] as const)
      assert.deepEqual(fencing(failover({ fenced: true }), standby(), {}, 0, { pg1: "no answer" }, { pg1: { pg2: answer, pg3: answer } }), {
        fence: [],
        problems: [],
      });
    // converged: nothing is promoted on the statement's word
    assert.deepEqual(fencing(failover({ fenced: true }), primary({ timeline: 2 }), {}, 0, {}, { pg1: { pg3: "primary" } }).problems, []);
  });

  it("asks the members only of a host stated fenced whose PostgreSQL port is silent here or refuses the login", () => {
    assert.deepEqual(askMembers({ pg1: "no answer", pg4: "not logged in", pg5: "primary", pg6: "standby" }), ["pg1", "pg4"]);
  });

  it("asks the PostgreSQL port only of a host stated fenced that does not answer over SSH, and only for a promotion", () => {
    assert.deepEqual(fencedToAsk(failover({ fenced: true }), standby(), {}), ["pg1"]);
    assert.deepEqual(fencedToAsk(failover({ fenced: true }), standby(), { pg1: primary() }), []);
    assert.deepEqual(fencedToAsk(failover(), standby(), {}), []);
    assert.deepEqual(fencedToAsk(failover({ fenced: true }), primary({ timeline: 2 }), {}), []);
  });

  it("never refuses a converged cluster for a down host that stays away, fenced or not", () => {
    assert.deepEqual(fencing(failover(), primary({ timeline: 2 }), { pg1: undefined }, 0), { fence: [], problems: [] });
    assert.deepEqual(fencing(clusterSpec(), primary(), {}, 0), { fence: [], problems: [] });
  });

  it("asks for the statement on a switchover too, when another host is down and away", () => {
    const c = clusterSpec({
      leader: "pg2",
      hosts: [
        { name: "pg1", address: "10.77.0.11", sshPort: 22 },
        { name: "pg2", address: "10.77.0.12", sshPort: 22 },
        { name: "pg3", address: "10.77.0.13", sshPort: 22, down: true },
      ],
    });
    assert.match(fencing(c, standby(), {}, 0).problems[0], /^pg-replication:clusters\[0\]\.hosts\[2\]: pg3 is marked down/);
  });
});
