// Warm standbys through the real engine on the sandbox, on the dev stack the previous suite left
// converged: repair, growth, rolling restarts, switchover and failover under load, and a leader
// lost in the middle of a rebuild. Each test leaves pg1 the leader of pg2 and pg3.
import { strict as assert } from "node:assert";
import { devStack } from "../support/devStack";
import { dataDirectory, eventually, isPrimary, startTime, streamingFrom } from "../support/hosts";
import { Reader, Writer } from "../support/load";
import { host, psql, sshOk } from "../support/sandbox";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** pg_a and pg_b cannot reach each other (each refuses to route to the other); the controller reaches both. */
function partition(a: string, b: string, cut: boolean): void {
  const { execFileSync } = require("node:child_process") as typeof import("node:child_process");
  for (const [from, to] of [
    [a, b],
    [b, a],
  ])
    execFileSync("ip", ["-n", `pgr-${from}`, "route", cut ? "replace" : "del", "prohibit", `${host(to).address}/32`], { stdio: "ignore" });
}

describe("warm standbys through the engine", function () {
  this.timeout(1_800_000);
  const dev = devStack();
  let password = "";

  before(() => {
    dev.ensureUp();
    password = dev.secret("adminPassword");
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed")
      process.stderr.write(`state after the failure:\n${dev.ok(["stack", "output", "replicationState"])}\n`);
  });

  it("restarts a stopped standby on the next up, without a wipe", async () => {
    const directory = dataDirectory("pg3");
    sshOk("pg3", "sudo -n pg_ctlcluster 15 main stop -m fast");
    const preview = dev.run(["preview", "--diff"]);
    assert.match(preview.stdout, /observed at plan time: stopped, a standby, system \d+/);
    const out = dev.up();
    assert.match(out, /pg3: the standby was stopped: starting it \(its data is kept\)/);
    await eventually("pg3 streams from pg1", () => streamingFrom("pg3", "pg1"));
    assert.equal(dataDirectory("pg3"), directory, "pg3 kept its data directory");
  });

  it("adds a third standby, and only that host restarts", async () => {
    // pg4 as a new host comes: a fresh Debian cluster
    sshOk("pg4", "sudo -n pg_dropcluster 15 main --stop && sudo -n pg_createcluster 15 main --start >/dev/null");
    const others = ["pg1", "pg2", "pg3"];
    const before = others.map(startTime);
    dev.editCluster((c) => c.hosts.push({ name: "pg4", address: host("pg4").address }));
    const out = dev.up();
    assert.match(out, /pg4: rebuilding as a standby of pg1/);
    await eventually("pg4 streams from pg1", () => streamingFrom("pg4", "pg1"));
    assert.deepEqual(others.map(startTime), before, "pg1, pg2 and pg3 were only reloaded");
    const state = dev.outputs().replicationState as { main: { standbys: Record<string, { state: string }> } };
    assert.equal(state.main.standbys.pg4.state, "streaming");
    // back to two standbys; pg4 keeps its copy (nothing on a host is ever removed)
    dev.editCluster((c) => (c.hosts = c.hosts.filter((h) => h.name !== "pg4")));
    dev.up();
    psql("pg1", "select pg_drop_replication_slot('pgr_pg4') from pg_replication_slots where slot_name = 'pgr_pg4' and not active");
  });

  it("rolls a restart-needing change: standbys one at a time, the leader last, one member always serving", async () => {
    const reader = new Reader(["pg1", "pg2", "pg3"], password);
    reader.start();
    dev.editCluster((c) => (c.settings = { ...(c.settings ?? {}), max_connections: 120 }));
    const raised = await dev.upAsync();
    dev.editCluster((c) => (c.settings = { ...(c.settings ?? {}), max_connections: 100 }));
    const lowered = await dev.upAsync();
    const rounds = await reader.stop();
    // each step's line shows twice in the log (updating, updated): keep the first
    const order = (log: string) => [
      ...new Set([...log.matchAll(/pg-replication on (pg\d): restarting postgresql 15 main/g)].map((m) => m[1])),
    ];
    assert.deepEqual(order(raised), ["pg2", "pg3", "pg1"], raised);
    assert.match(lowered, /pg2: holding max_connections at 120 \(the leader's\) until the leader runs with 100/);
    assert.deepEqual(order(lowered), ["pg1", "pg2", "pg3"], `lowered on the leader first, then the settle pass:\n${lowered}`);
    for (const m of ["pg1", "pg2", "pg3"]) assert.equal(psql(m, "show max_connections"), "100", m);
    assert.ok(rounds.length > 20, `${rounds.length} rounds`);
    const empty = rounds.filter((r) => r.answered.length === 0);
    assert.deepEqual(empty, [], "at every round at least one member answered");
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
  });

  it("switches over to pg2 under a writer, losing no committed write, and back", async () => {
    for (const [from, to] of [
      ["pg1", "pg2"],
      ["pg2", "pg1"],
    ]) {
      psql(from, "drop table if exists pgr_writes; create table pgr_writes (id bigint primary key)");
      const writer = new Writer(["pg1", "pg2", "pg3"], password);
      writer.start();
      await sleep(500);
      dev.editCluster((c) => (c.leader = to));
      const out = await dev.upAsync();
      await sleep(500);
      const acked = await writer.stop();
      assert.match(out, new RegExp(`${from}: the leader is now ${to}`));
      assert.match(out, new RegExp(`${to}: promoting ${to} to leader`));
      assert.match(out, new RegExp(`${from}: a former leader of this cluster: rejoining ${to}`));
      assert.match(out, new RegExp(`${from}: standby of ${to} \\([^)]*\\): rejoined and streaming`), "a switchover needs no copy");
      assert.ok(isPrimary(to) && !isPrimary(from), `${to} leads`);
      const rows = new Set(psql(to, "select id from pgr_writes").split("\n").map(Number));
      const lost = acked.filter((id) => !rows.has(id));
      assert.ok(acked.length > 20, `${acked.length} writes acknowledged`);
      assert.deepEqual(lost, [], `every acknowledged write is on ${to}`);
      for (const m of ["pg1", "pg2", "pg3"].filter((x) => x !== to))
        await eventually(`${m} streams from ${to}`, () => streamingFrom(m, to));
      const r = dev.run(["preview", "--expect-no-changes"]);
      assert.equal(r.code, 0, r.stdout);
    }
  });

  it("refuses a switchover to a member cut off from the leader: nothing stops, no committed row is lost", async () => {
    partition("pg1", "pg2", true);
    try {
      // writes pg2 cannot receive; the leader's sender to pg2 fails on them
      psql(
        "pg1",
        "drop table if exists pgr_cut; create table pgr_cut (id int primary key); insert into pgr_cut select generate_series(1, 200)",
      );
      await eventually(
        "pg1 no longer sees pg2 streaming",
        () => psql("pg1", "select count(*) from pg_stat_replication where application_name = 'pg2' and state = 'streaming'") === "0",
        90,
      );
      dev.editCluster((c) => (c.leader = "pg2"));
      const r = await dev.project.runAsync(["up", "--yes", "--stack", dev.stack]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(
        r.stdout,
        /pg1: checking that pg2 streams from this leader failed: pg2, the new leader, does not stream from this leader/,
      );
      assert.ok(isPrimary("pg1"), "pg1 still leads: nothing was stopped");
      assert.ok(!isPrimary("pg2"), "pg2 was not promoted");
      assert.equal(psql("pg1", "select count(*) from pgr_cut"), "200");
    } finally {
      partition("pg1", "pg2", false);
      dev.editCluster((c) => (c.leader = "pg1"));
    }
    await eventually("pg2 streams from pg1 again", () => streamingFrom("pg2", "pg1"), 60);
    dev.up();
    await eventually("pg2 has the 200 rows", () => psql("pg2", "select count(*) from pgr_cut") === "200");
    psql("pg1", "drop table pgr_cut");
  });

  it("keeps a stopped member whose data directory holds another system's database, and never reads it as converged", async () => {
    // pg3's directory swapped for a stopped cluster of another system holding a database
    const swap = [
      "sudo -n pg_ctlcluster 15 main stop -m fast",
      "sudo -n mv /var/lib/postgresql/15/main /var/lib/postgresql/15/main.pgr-test",
      "sudo -n -u postgres /usr/lib/postgresql/15/bin/initdb -D /var/lib/postgresql/15/main >/dev/null",
      "sudo -n -u postgres /usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main -o '-p 5499 -k /tmp -c listen_addresses=' -w start >/dev/null",
      "sudo -n -u postgres psql -X -q -h /tmp -p 5499 -c 'create database theirs'",
      "sudo -n -u postgres /usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/main -m fast -w stop >/dev/null",
    ].join(" && ");
    sshOk("pg3", swap);
    const theirs = dataDirectory("pg3");
    try {
      const r = await dev.project.runAsync(["up", "--yes", "--stack", dev.stack]);
      assert.notEqual(r.code, 0, "a member that holds another system's data is not converged");
      assert.match(r.stdout, /pg3: .*not a standby of pg1 .* holds 1 databases and \d+ relation files of its own/);
      assert.equal(dataDirectory("pg3"), theirs, "its data directory is kept");
      assert.notEqual(dev.run(["preview", "--expect-no-changes"]).code, 0, "nor does a preview read it as converged");
    } finally {
      sshOk(
        "pg3",
        "sudo -n rm -rf /var/lib/postgresql/15/main && sudo -n mv /var/lib/postgresql/15/main.pgr-test /var/lib/postgresql/15/main",
      );
    }
    // the original directory back, still stopped: the next up starts it
    const out = dev.up();
    assert.match(out, /pg3: the standby was stopped: starting it \(its data is kept\)/);
    await eventually("pg3 streams from pg1", () => streamingFrom("pg3", "pg1"));
    dev.up(); // the step once more, its note gone (README: after a repair)
    assert.equal(dev.run(["preview", "--expect-no-changes"]).code, 0);
  });

  it("fails over to pg2 with pg1's sshd and postgres stopped, then takes pg1 back", async () => {
    const pg1 = sshOk("pg1", "sudo -n cat /var/lib/postgresql/15/main/postmaster.pid | head -1").trim();
    sshOk("pg1", `sudo -n kill -9 ${pg1}`);
    execSandbox("stop-sshd pg1");
    try {
      dev.editCluster((c) => {
        c.leader = "pg2";
        // killed and cut off: the operator's word that it cannot write (config/fencing.ts)
        Object.assign(
          c.hosts.find((h) => h.name === "pg1")!,
          { down: true, fenced: true },
        );
      });
      const started = Date.now();
      const out = await dev.upAsync();
      assert.ok(Date.now() - started < 120_000, "no waiting on the dead host");
      assert.match(out, /pg2: promoting pg2 to leader/);
      assert.ok(isPrimary("pg2"));
      await eventually("pg3 streams from pg2", () => streamingFrom("pg3", "pg2"));
    } finally {
      execSandbox("up");
    }
    // pg1 is back (the sandbox restarts its postgres: a primary on the old timeline)
    dev.editCluster((c) => {
      const pg1 = c.hosts.find((h) => h.name === "pg1")!;
      delete pg1.down;
      delete pg1.fenced;
      c.leader = "pg1";
    });
    const refused = dev.run(["preview"]);
    assert.notEqual(refused.code, 0, "making the stale pg1 the leader again would lose pg2's writes");
    assert.match(refused.stdout + refused.stderr, /clusters\[0\]\.leader: pg1 is a primary on timeline \d+, behind pg2 on timeline \d+/);
    dev.editCluster((c) => (c.leader = "pg2"));
    const rejoined = await dev.upAsync();
    assert.match(rejoined, /pg1: the leader is now pg2/, "the stale pg1 is stopped first");
    assert.match(rejoined, /pg1: (a former leader of this cluster|rebuilding as a standby)/);
    await eventually("pg1 streams from pg2", () => streamingFrom("pg1", "pg2"));
    dev.editCluster((c) => (c.leader = "pg1"));
    const back = await dev.upAsync();
    assert.match(back, /pg1: promoting pg1 to leader/);
    assert.ok(isPrimary("pg1"), back);
    for (const m of ["pg2", "pg3"]) await eventually(`${m} streams from pg1`, () => streamingFrom(m, "pg1"));
  });

  it("fails clearly when the leader stops during a rebuild, and converges on the next up", async () => {
    psql(
      "pg1",
      "create table if not exists pgr_bulk as select g as id, repeat('x', 200) as pad from generate_series(1, 1500000) g; checkpoint",
    );
    const directory = dataDirectory("pg3");
    dev.editCluster((c) => (c.hosts.find((h) => h.name === "pg3")!.rebuild = `test-${Date.now()}`));
    const up = dev.project.runAsync(["up", "--yes", "--stack", dev.stack]);
    await eventually("pg_basebackup runs on pg1", () => psql("pg1", "select count(*) from pg_stat_progress_basebackup") === "1", 60);
    sshOk("pg1", "sudo -n pg_ctlcluster 15 main stop -m immediate");
    const failed = await up;
    assert.notEqual(failed.code, 0);
    assert.match(failed.stdout, /pg3: pg_basebackup from pg1 \(10\.77\.0\.11:5432\) failed[^\n]*; the host is as it was before this step/);
    assert.equal(dataDirectory("pg3"), directory, "pg3's own data directory is back");
    const out = dev.up();
    assert.match(out, /pg1: postgresql 15 main is down: starting it/);
    assert.match(out, /pg3: standby of pg1 \(10\.77\.0\.11:5432\): rebuilt and streaming/);
    assert.notEqual(dataDirectory("pg3"), directory, "pg3 was rebuilt");
    psql("pg1", "drop table pgr_bulk");
  });
});

function execSandbox(what: string): void {
  const [cmd, arg] = what.split(" ");
  const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
  const script = cmd === "up" ? "sandbox/up.sh" : "sandbox/stop-sshd.sh";
  const r = spawnSync("bash", [script, ...(arg ? [arg] : [])], { cwd: require("node:path").resolve(__dirname, "../.."), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script}: ${r.stdout}${r.stderr}`);
}
