// The repository's dev stack through the real engine on the sandbox hosts: up, every host
// checked with a client, a preview with no change, one setting changed and reviewed, a password
// changed in place, destroy, and up again with nothing on a host lost.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { computeTuning } from "../../render/tuning";
import { devStack } from "../support/devStack";
import { startTime } from "../support/hosts";
import { host, psql, ssh, sshOk } from "../support/sandbox";

const members = ["pg1", "pg2", "pg3"];
const ROOT = path.resolve(__dirname, "../..");
const PASSFILE = "/var/lib/postgresql/.pg-replication.pgpass";

/** The resources a `preview --diff` would change, and the lines it adds or removes in them. */
function parseDiff(out: string): { changed: string[]; lines: string[] } {
  const body = out.split(/\nOutputs:|\nResources:/)[0];
  const changed = [...body.matchAll(/~ [\w:/]+: \(update\)\n\s+\[id=[^\]]*\]\n\s+\[urn=[^\]]*::([\w-]+)\]/g)].map((m) => m[1]);
  const lines = body
    .split("\n")
    .filter((l) => /^\s+[+-] /.test(l))
    .map((l) => l.trim());
  return { changed: changed.sort(), lines };
}

/** As postgres on `member`, with the replication passfile, as a standby connects. */
const asReplicator = (member: string, conninfo: string, sql: string) =>
  ssh(
    member,
    `cd / && sudo -n -u postgres psql -X -A -t "host=${host("pg1").address} user=replicator passfile=${PASSFILE} ${conninfo}" -c "${sql}"`,
  );

describe("the dev stack through the engine", function () {
  this.timeout(900_000);
  const dev = devStack();
  const marker = `row-${randomBytes(4).toString("hex")}`;

  it("comes up: a leader streaming to two standbys", () => {
    dev.up();
    const out = dev.outputs() as {
      replicationState: { main: { leader: string; standbys: Record<string, { state: string; slotActive: boolean }> } };
    };
    const state = out.replicationState.main;
    assert.equal(state.leader, "pg1");
    for (const s of ["pg2", "pg3"]) {
      assert.equal(state.standbys[s].state, "streaming", JSON.stringify(state));
      assert.equal(state.standbys[s].slotActive, true);
    }
  });

  it("has the settings and the computed tuning in effect on every host", async () => {
    for (const m of members) {
      const [memKiB, cpus] = sshOk(m, "awk '/^MemTotal:/ {print $2}' /proc/meminfo; nproc").trim().split("\n").map(Number);
      const tuned = computeTuning({ memoryMiB: Math.floor(memKiB / 1024), cpus }, cpus, 100);
      const rows = await dev.admin(m, async (c) =>
        Object.fromEntries(
          (
            await c.query(
              "select name, setting, unit from pg_settings where name in ('wal_level','hot_standby','listen_addresses','wal_log_hints','shared_buffers','max_wal_senders','password_encryption')",
            )
          ).rows.map((r) => [r.name, r.setting]),
        ),
      );
      assert.equal(rows.wal_level, "replica", m);
      assert.equal(rows.hot_standby, "on", m);
      assert.equal(rows.wal_log_hints, "on", m);
      assert.equal(rows.listen_addresses, "*", m);
      assert.equal(rows.password_encryption, "scram-sha-256", m);
      assert.equal(`${(Number(rows.shared_buffers) * 8) / 1024}MB`, tuned.shared_buffers, `${m}: shared_buffers from its memory`);
    }
  });

  it("has the managed pg_hba block first, in order, on every host", async () => {
    for (const m of members) {
      const rules = await dev.admin(m, async (c) =>
        (
          await c.query(
            "select type, array_to_string(database, ',') as db, array_to_string(user_name, ',') as usr, coalesce(address, '') as addr, auth_method, error from pg_hba_file_rules order by line_number",
          )
        ).rows.map((r) => [r.type, r.db, r.usr, r.addr, r.auth_method, r.error ?? ""].filter(Boolean).join(" ")),
      );
      assert.deepEqual(rules.slice(0, 8), [
        "hostssl all pgr_admin 10.77.0.254 scram-sha-256",
        "hostssl replication replicator 10.77.0.11 scram-sha-256",
        "hostssl replication replicator 10.77.0.12 scram-sha-256",
        "hostssl replication replicator 10.77.0.13 scram-sha-256",
        "host all replicator 0.0.0.0 reject",
        "host all replicator :: reject",
        "local all replicator reject",
        "hostssl appdb app 10.77.0.0 scram-sha-256",
      ]);
      assert.ok(
        rules.every((r) => !r.endsWith("error")),
        `${m}: no line the server cannot parse`,
      );
    }
  });

  it("has the admin and replication roles with exactly their attributes", () => {
    for (const m of members) {
      assert.equal(psql(m, "select rolsuper, rolcanlogin from pg_roles where rolname = 'pgr_admin'"), "t|t", m);
      assert.equal(
        psql(
          m,
          "select rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolcreaterole, rolinherit from pg_roles where rolname = 'replicator'",
        ),
        "t|t|f|f|f|f",
        m,
      );
    }
  });

  it("lets the replication role stream and refuses it in every database", () => {
    assert.equal(asReplicator("pg2", "dbname=replication replication=true", "IDENTIFY_SYSTEM").code, 0);
    if (!psql("pg1", "select 1 from pg_database where datname = 'appdb'")) psql("pg1", "create database appdb");
    for (const db of ["postgres", "template1", "appdb"]) {
      const r = asReplicator("pg2", `dbname=${db}`, "select 1");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /pg_hba\.conf rejects connection for host "10\.77\.0\.12", user "replicator", database "\w+"/);
    }
  });

  it("replicates a row written on the leader to both standbys", async () => {
    psql("pg1", `create table if not exists pgr_test (v text); insert into pgr_test values ('${marker}')`);
    for (const s of ["pg2", "pg3"]) {
      let seen = "";
      for (let i = 0; i < 50 && seen !== "1"; i++) {
        seen = psql(s, `select count(*) from pgr_test where v = '${marker}'`).trim();
        if (seen !== "1") await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(seen, "1", `${s} has the row`);
      assert.equal(psql(s, "select pg_is_in_recovery()"), "t");
    }
  });

  it("previews no change on a second run", () => {
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it("shows a changed setting, and only it, for every host, with no secret", () => {
    dev.editStackFile((t) => t.replace("      clients:", "      settings:\n        work_mem: 8MB\n      clients:"));
    const r = dev.run(["preview", "--diff"]);
    assert.equal(r.code, 0, r.stderr);
    const { changed, lines } = parseDiff(r.stdout);
    assert.deepEqual(changed, [
      "main-pg1-apply",
      "main-pg1-settle",
      "main-pg2-apply",
      "main-pg2-settle",
      "main-pg3-apply",
      "main-pg3-settle",
    ]);
    assert.ok(lines.includes("+ work_mem = 8MB"), lines.join("\n"));
    assert.ok(
      lines.every((l) => /^[+-] work_mem = /.test(l)),
      `only work_mem lines change:\n${lines.join("\n")}`,
    );
    for (const secret of [dev.secret("adminPassword"), dev.secret("replicationPassword")])
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret));
  });

  it("reports the change for a pull request, and a restart-needing one under 'needs attention'", () => {
    const report = () =>
      execFileSync("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "report/prPreview.ts")], {
        cwd: ROOT,
        env: { ...dev.project.env, PGR_PREVIEW_DIR: dev.project.dir, STACKS: "dev" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    const quiet = report();
    assert.match(quiet, /### Needs attention\n- nothing that can cost data or availability/);
    assert.match(quiet, /\| `dev` \| 0 create, 6 update, 0 replace, 0 delete, \d+ same \|/);
    assert.match(quiet, /main-pg2-apply[\s\S]*\+ work_mem = 8MB/);
    for (const secret of [dev.secret("adminPassword"), dev.secret("replicationPassword")]) assert.ok(!quiet.includes(secret));
    const text = fs.readFileSync(dev.project.stackFile("dev"), "utf8");
    dev.editCluster((c) => (c.settings = { ...(c.settings ?? {}), max_connections: 110 }));
    const loud = report();
    fs.writeFileSync(dev.project.stackFile("dev"), text);
    for (const m of members) assert.match(loud, new RegExp(`- \`dev\` main-${m}-apply: PostgreSQL restart for max_connections`));
  });

  it("applies it with a reload: no member restarts", () => {
    const before = members.map(startTime);
    const out = dev.up();
    for (const m of members) assert.equal(psql(m, "show work_mem"), "8MB", m);
    assert.deepEqual(
      members.map(startTime),
      before,
      out
        .split("\n")
        .filter((l) => /restart/.test(l))
        .join("\n"),
    );
  });

  it("changes the replication password in place, and the standbys still stream with it", () => {
    const original = dev.secret("replicationPassword");
    dev.project.setConfig("dev", "pg-replication:replicationPassword", randomBytes(12).toString("base64"), true);
    const out = dev.up();
    assert.doesNotMatch(out, /replaced|replacing/, "nothing replaced");
    assert.match(out, /main-replication updated|~ +postgresql:index:Role main-replication/);
    assert.equal(asReplicator("pg3", "dbname=replication replication=true", "IDENTIFY_SYSTEM").code, 0, "the new passfile works");
    sshOk("pg3", "sudo -n pg_ctlcluster 15 main restart -m fast");
    dev.project.setConfig("dev", "pg-replication:replicationPassword", original, true);
    dev.up();
    assert.equal(asReplicator("pg2", "dbname=replication replication=true", "IDENTIFY_SYSTEM").code, 0);
  });

  it("destroys the stack and leaves the hosts' data, the replication role included (the standbys stream with it)", () => {
    dev.ok(["destroy", "--yes"]);
    assert.equal(psql("pg1", "select count(*) from pg_roles where rolname = 'replicator'"), "1");
    for (const m of members) assert.equal(psql(m, `select count(*) from pgr_test where v = '${marker}'`), "1", m);
  });

  it("comes up again without rebuilding a standby", () => {
    const started = members.map(startTime);
    const out = dev.up();
    assert.doesNotMatch(out, /pg_basebackup|rebuilding/);
    assert.deepEqual(members.map(startTime), started, "no member restarted, none was rebuilt");
    for (const m of members) assert.equal(psql(m, `select count(*) from pgr_test where v = '${marker}'`), "1", m);
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
  });

  it("converges after a destroy when the next up restarts every member (as make demo's wal_level leaves it)", () => {
    dev.ok(["destroy", "--yes"]);
    dev.editCluster((c) => (c.settings = { ...(c.settings ?? {}), track_commit_timestamp: "on" }));
    const out = dev.up();
    assert.match(out, /pg2: restarting postgresql 15 main \(standby\) for: track_commit_timestamp/);
    for (const m of members) assert.equal(psql(m, "show track_commit_timestamp"), "on", m);
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
  });
});
