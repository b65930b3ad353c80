// One primary, and no slot left behind, through the real engine on the sandbox's dev stack: a
// member promoted by hand stops the preview (then is either rebuilt or adopted, as the message
// says), the slot of a host removed from config is dropped once nothing streams through it, and
// the application connections are an output in the clear. Each test leaves pg1 the leader of pg2
// and pg3.
import { strict as assert } from "node:assert";
import { devStack } from "../support/devStack";
import { dataDirectory, eventually, isPrimary, streamingFrom } from "../support/hosts";
import { host, psql, sshOk } from "../support/sandbox";

const promoteByHand = (member: string) => sshOk(member, "sudo -n pg_ctlcluster 15 main promote");
const slotOnPg1 = (slot: string) =>
  psql("pg1", `select coalesce((select active::text from pg_replication_slots where slot_name = '${slot}'), 'none')`);

describe("one primary, and no slot of a removed host, through the engine", function () {
  this.timeout(1_800_000);
  const dev = devStack();

  before(() => dev.ensureUp());

  afterEach(function () {
    if (this.currentTest?.state === "failed")
      process.stderr.write(`state after the failure:\n${dev.ok(["stack", "output", "replicationState"])}\n`);
  });

  it("outputs the application connections in the clear, over every member", () => {
    const plainOutputs = JSON.parse(dev.ok(["stack", "output", "--json"])) as Record<string, unknown>;
    const app = (
      plainOutputs.applicationConnections as Record<string, Record<string, Record<string, Record<string, Record<string, string>>>>>
    ).main.appdb.app;
    const all = ["pg1", "pg2", "pg3"].map((m) => host(m).address).join(",");
    assert.match(app.readWrite.conninfo, new RegExp(`^host='${all.replace(/\./g, "\\.")}' `));
    assert.match(app.readOnly.jdbc, /targetServerType=preferSecondary/);
  });

  it("refuses a preview while pg3, promoted by hand, runs beside the leader; rebuilt from pg1, it follows again", async () => {
    promoteByHand("pg3");
    await eventually("pg3 is a primary", () => isPrimary("pg3"));
    const refused = dev.run(["preview"]);
    assert.notEqual(refused.code, 0, "two primaries: no preview");
    const said = refused.stdout + refused.stderr;
    assert.match(said, /clusters\[0\]\.leader: pg1 is a primary on timeline \d+, behind pg3 on timeline \d+/);
    assert.match(said, /set pg-replication:clusters\[0\]\.leader to pg3 to adopt it: no copy is made/);
    assert.match(said, /stop postgresql on pg3 and set pg-replication:clusters\[0\]\.hosts\[2\]\.rebuild to a new token to keep pg1/);
    assert.ok(isPrimary("pg1") && isPrimary("pg3"), "nothing was changed");
    // the way that keeps pg1, as the message gives it
    const directory = dataDirectory("pg3");
    sshOk("pg3", "sudo -n pg_ctlcluster 15 main stop -m fast");
    dev.editCluster((c) => (c.hosts.find((h) => h.name === "pg3")!.rebuild = `hand-promoted-${Date.now()}`));
    const out = await dev.upAsync();
    assert.match(out, /pg3: rebuilding as a standby of pg1/);
    await eventually("pg3 streams from pg1", () => streamingFrom("pg3", "pg1"));
    assert.notEqual(dataDirectory("pg3"), directory, "pg3 was copied from pg1");
    // a repair the plan-time observation asked for runs once more as a no-op (README, not done yet)
    await dev.upAsync();
    const converged = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(converged.code, 0, converged.stdout);
  });

  it("adopts pg3, promoted by hand while pg1 was stopped, without a copy when leader is set to it; then switches back", async () => {
    sshOk("pg1", "sudo -n pg_ctlcluster 15 main stop -m fast");
    promoteByHand("pg3");
    await eventually("pg3 is a primary", () => isPrimary("pg3"));
    const refused = dev.run(["preview"]);
    assert.notEqual(refused.code, 0, "starting pg1 would make two primaries");
    assert.match(
      refused.stdout + refused.stderr,
      /pg1 is stopped \(a primary, last on timeline \d+\) and pg3 runs as a primary of its system/,
    );
    const pg3 = dataDirectory("pg3");
    dev.editCluster((c) => (c.leader = "pg3"));
    const adopted = await dev.upAsync();
    assert.match(adopted, /pg3: the leader: a running primary/);
    assert.match(adopted, /pg1: a former leader of this cluster: rejoining pg3/);
    assert.equal(dataDirectory("pg3"), pg3, "the adopted leader was not copied");
    for (const m of ["pg1", "pg2"]) await eventually(`${m} streams from pg3`, () => streamingFrom(m, "pg3"), 60);
    dev.editCluster((c) => (c.leader = "pg1"));
    const back = await dev.upAsync();
    assert.match(back, /pg1: promoting pg1 to leader/);
    for (const m of ["pg2", "pg3"]) await eventually(`${m} streams from pg1`, () => streamingFrom(m, "pg1"), 60);
  });

  it("drops the slot of a host removed from config once nothing streams through it, listing it in the preview first", async () => {
    // pg4 as a new host comes: a fresh Debian cluster, made a standby of pg1 with slot pgr_pg4
    sshOk("pg4", "sudo -n pg_dropcluster 15 main --stop && sudo -n pg_createcluster 15 main --start >/dev/null");
    dev.editCluster((c) => c.hosts.push({ name: "pg4", address: host("pg4").address }));
    try {
      dev.up();
      await eventually("pg4 streams from pg1", () => streamingFrom("pg4", "pg1"));
      dev.editCluster((c) => (c.hosts = c.hosts.filter((h) => h.name !== "pg4")));
      // still streaming: its slot is in use, kept and said so
      const busy = dev.run(["preview", "--diff"]);
      assert.equal(busy.code, 0, busy.stdout + busy.stderr);
      // the engine writes a program's warnings to stderr
      assert.match(busy.stderr, /slot pgr_pg4 on pg1 belongs to no host in config but is in use/);
      assert.doesNotMatch(busy.stdout, /slots=\(pgr_pg4@/);
      sshOk("pg4", "sudo -n pg_ctlcluster 15 main stop -m fast");
      await eventually("pgr_pg4 is idle", () => slotOnPg1("pgr_pg4") === "false");
      const preview = dev.run(["preview", "--diff"]);
      assert.equal(preview.code, 0, preview.stdout + preview.stderr);
      assert.match(preview.stdout, /main-pg1-drop-slots/);
      assert.match(preview.stdout, /slots=\(pgr_pg4@[0-9A-F]+\/[0-9A-F]+\)/, "the diff lists the slot to drop");
      assert.equal(slotOnPg1("pgr_pg4"), "false", "a preview drops nothing");
      const out = dev.up();
      assert.match(out, /pg1: dropped slot pgr_pg4 \(its member is no longer in config/);
      assert.equal(slotOnPg1("pgr_pg4"), "none");
      for (const kept of ["pgr_pg2", "pgr_pg3"]) assert.equal(slotOnPg1(kept), "true", `${kept} kept`);
      const r = dev.run(["preview", "--expect-no-changes"]);
      assert.equal(r.code, 0, r.stdout);
    } finally {
      dev.editCluster((c) => (c.hosts = c.hosts.filter((h) => h.name !== "pg4")));
      // pg4 back to a fresh cluster of its own, as the next test that adds it expects, and its slot gone
      sshOk("pg4", "sudo -n pg_dropcluster 15 main --stop && sudo -n pg_createcluster 15 main --start >/dev/null");
      psql("pg1", "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = 'pgr_pg4' and not active");
    }
  });
});
