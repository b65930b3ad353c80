// The migration through the real engine: the sandbox's `old` host (prepared as the users could:
// wal_level, a migration role, pg_hba lines) moved onto the dev stack's cluster under a live
// writer: preflight, sync, cutover, the way back (writes on the target followed by the source,
// then the application moved back), complete; each rerun a no-op, nothing lost.
import { strict as assert } from "node:assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as path from "node:path";
import { devStack } from "../support/devStack";
import { eventually } from "../support/hosts";
import { OrderWriter, SuperuserWriter, insertOrder } from "../support/load";
import { host, psql, sandbox, ssh, sshOk } from "../support/sandbox";

const SOURCE_PASSWORD = "m1grat0r-source-pw";
const APP_PASSWORD = "app-pw-2026";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = path.resolve(__dirname, "../..");

describe("a migration from the old server onto the cluster", function () {
  this.timeout(1_800_000);
  const dev = devStack();
  const app = new OrderWriter(APP_PASSWORD);
  const OLD_LOG = "/var/log/postgresql/postgresql-15-main.log";
  let logFrom = 1;

  /** A superuser session on `member` that takes a lock and keeps it until released (no freeze ends a superuser's session). */
  const holdLock = async (member: string, db: string, lock: string, name = "pgr-test-lock"): Promise<() => void> => {
    const holder = spawn(
      "ssh",
      ["-F", sandbox().sshConfigPath, member, `cd / && sudo -n -u postgres psql -X -q 'dbname=${db} application_name=${name}'`],
      {
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    holder.stdin.write(`begin;\n${lock};\nselect pg_sleep(600);\n`);
    await eventually(
      `${member} holds the lock`,
      () => psql(member, `select count(*) from pg_stat_activity where application_name = '${name}' and wait_event = 'PgSleep'`) === "1",
    );
    return () => {
      psql(member, `select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = '${name}'`);
      holder.kill();
    };
  };

  before(() => {
    dev.ensureUp();
    // leftovers of an earlier run on the target: the subscription and the database it filled
    if (psql("pg1", "select 1 from pg_database where datname = 'appdb'")) {
      const mine = "from pg_subscription where subdbid = (select oid from pg_database where datname = current_database())";
      psql(
        "pg1",
        // an earlier run stopped inside a cutover may have left it read-only for new sessions
        "set default_transaction_read_only = off;\n" +
          ["disable", "set (slot_name = none)"]
            .map((a) => `select format('alter subscription %I ${a}', subname) ${mine} \\gexec`)
            .join("\n") +
          `\nselect format('drop subscription %I', subname) ${mine} \\gexec`,
        "appdb",
      );
      psql("pg1", "drop database appdb");
    }
    // the old server, as its owners prepare it; pgbench_history left without a replica identity
    execFileSync("bash", [path.join(ROOT, "sandbox/old-server.sh"), "--scale", "2", "--no-identity"], {
      env: { ...process.env, PGR_OLD_MIGRATOR_PASSWORD: SOURCE_PASSWORD, PGR_OLD_APP_PASSWORD: APP_PASSWORD },
      stdio: ["ignore", "ignore", "inherit"],
    });
    // roles with a membership and settings, new to the target (M3): the schema copy brings them whole
    psql("pg1", `drop role if exists reporter; drop role if exists "Readers, Inc"`);
    psql(
      "old",
      [
        `select 'create role "Readers, Inc" nologin' where not exists (select from pg_roles where rolname = 'Readers, Inc') \\gexec`,
        `select 'create role reporter login' where not exists (select from pg_roles where rolname = 'reporter') \\gexec`,
        `grant "Readers, Inc" to reporter with admin option;`,
        `alter role reporter set statement_timeout = '7s';`,
        `alter role reporter set search_path = "$user", public, "Odd, Schema";`,
        `alter role reporter set "myapp.note" = 'it''s; not SQL';`,
        // and what is set for the database alone, for everyone and for one role in it
        `alter database appdb set work_mem = '12MB';`,
        `alter database appdb set search_path = "$user", public, "Odd, Schema";`,
        `alter role reporter in database appdb set statement_timeout = '9s';`,
      ].join("\n"),
    );
    // the old server logs every statement, as some do: the way back's password must still stay out
    logFrom = Number(sshOk("old", `sudo -n stat -c %s ${OLD_LOG}`)) + 1;
    psql("old", "alter system set log_statement = 'all'");
    psql("old", "select pg_reload_conf()");
    dev.editConfig((c) => {
      c["pg-replication:migration"] = {
        source: { address: host("old").address, database: "appdb", user: "migrator" },
        target: { cluster: "main", database: "appdb" },
        phase: "sync",
        sequenceMargin: 1000,
        wayBack: true,
        // counts and checksums after the switch (the default with a way back; the revert below checks both in its pause)
        checksums: "after-switch",
      };
    });
  });

  after(async () => {
    await app.stop();
    psql("old", "alter system reset log_statement");
    psql("old", "select pg_reload_conf()");
    dev.editConfig((c) => delete c["pg-replication:migration"]);
    dev.up();
  });

  it("refuses a wrong source password at preview, naming the key and showing it nowhere", () => {
    dev.project.setConfig("dev", "pg-replication:sourcePassword", "wrong-Pw-9731", true);
    const r = dev.run(["preview"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pg-replication:sourcePassword: the source refused it for user "migrator"/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-Pw-9731/);
    assert.doesNotMatch(dev.ok(["stack", "export"]), /wrong-Pw-9731/);
  });

  it("refuses a table without a primary key at preview, naming it", () => {
    dev.project.setConfig("dev", "pg-replication:sourcePassword", SOURCE_PASSWORD, true);
    const r = dev.run(["preview"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pg-replication:migration\.tables: public\.pgbench_history has no primary key or replica identity/);
  });

  it("refuses at preview a source that admits the controller but not the target's leader, naming both", () => {
    psql("old", "alter table pgbench_history replica identity full", "appdb");
    const hba = "/etc/postgresql/15/main/pg_hba.conf";
    const reload = "cd / && sudo -n -u postgres psql -X -q -c 'select pg_reload_conf()' >/dev/null";
    sshOk("old", `sudo -n sed -i '1i host all all 10.77.0.11/32 reject # pgr-test' ${hba} && ${reload}`);
    try {
      const r = dev.run(["preview"]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stdout + r.stderr,
        /pg-replication:migration\.source: the source's pg_hba does not admit the target leader pg1 \(10\.77\.0\.11\) for user migrator on database appdb/,
      );
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SOURCE_PASSWORD));
    } finally {
      sshOk("old", `sudo -n sed -i '/# pgr-test$/d' ${hba} && ${reload}`);
    }
  });

  it("refuses at preview a source role with an md5 password, naming it and the fix", () => {
    psql("old", "set password_encryption = 'md5'; create role legacy_md5 login password 'legacy-pw'");
    try {
      const r = dev.run(["preview"]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stdout + r.stderr,
        /pg-replication:migration\.source: role legacy_md5 has an md5 password on the source, .*set password_encryption = scram-sha-256 and reset that role's password on the source/,
      );
    } finally {
      psql("old", "drop role legacy_md5");
    }
  });

  it("refuses a source role whose name holds a control character, before any statement of it reaches the target (H6)", () => {
    psql("old", `create role "evil\tname; create role pwned superuser" nologin`);
    try {
      const r = dev.run(["up", "--yes"]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stdout + r.stderr,
        // the TAB as the step prints it, raw or escaped
        /the source has roles whose names hold control characters \("evil(\t|\\t)name; create role pwned superuser"\): rename or drop them/,
      );
      assert.equal(psql("pg1", "select count(*) from pg_roles where rolname = 'pwned' or rolname like 'evil%'"), "0");
    } finally {
      psql("old", `drop role "evil\tname; create role pwned superuser"`);
    }
  });

  it("refuses a new subscription over target tables holding rows that no statistic counts (M4), adding nothing", () => {
    // a target database made by hand, with one of the source's tables and a row in it
    psql("pg1", "create database appdb");
    psql(
      "pg1",
      // no index, as the schema copy's pre-data leaves a table: the copy at a snapshot takes it (below)
      "create table pgbench_branches (bid int not null, bbalance int, filler character(88)); insert into pgbench_branches values (1, 0, '')",
      "appdb",
    );
    psql("pg1", "select pg_stat_reset()", "appdb");
    assert.equal(psql("pg1", "select coalesce(sum(n_live_tup), 0) from pg_stat_user_tables", "appdb"), "0", "no statistic counts the row");
    const r = dev.run(["up", "--yes"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout + r.stderr,
      /tables of appdb already hold rows \(public\.pgbench_branches\): a new subscription would copy over them/,
    );
    assert.equal(psql("pg1", "select count(*) from pg_subscription"), "0");
    assert.equal(
      psql("pg1", "select count(*) from pg_tables where schemaname = 'public'", "appdb"),
      "1",
      "the refused step added no table",
    );
    // emptied, as the message says: the sync below creates the source's other tables and subscribes
    psql("pg1", "truncate pgbench_branches", "appdb");
  });

  it("undoes a copy at the snapshot that fails: the target's tables empty again, no slot left on the source", () => {
    // a constraint of the target's own that the source's rows break: the copy fails halfway
    psql("pg1", "alter table pgbench_branches add constraint no_first_branch check (bid > 1)", "appdb");
    const r = dev.run(["up", "--yes"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout + r.stderr,
      /copying the tables at the slot's snapshot failed: public\.pgbench_branches: ERROR: +new row for relation "pgbench_branches" violates check constraint "no_first_branch" \(undone: the target's tables emptied again, the source's slot pgr_\w+ dropped\)/,
    );
    assert.equal(psql("old", "select count(*) from pg_replication_slots"), "0", "no slot left on the source");
    assert.equal(psql("pg1", "select count(*) from pg_subscription"), "0");
    const rows = psql(
      "pg1",
      "select sum((xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I', tablename), false, true, '')))[1]::text::int) from pg_tables where schemaname = 'public'",
      "appdb",
    );
    assert.equal(rows, "0", "every table of the target is empty again");
    assert.equal(psql("pg1", "select count(*) from pg_indexes where schemaname = 'public'", "appdb"), "0", "and has no index yet");
    psql("pg1", "alter table pgbench_branches drop constraint no_first_branch", "appdb");
  });

  it("names rows a copy stopped before its end left, with the fix; its slot is dropped by the next copy", () => {
    // what a copy killed halfway leaves: its slot on the source, rows on the target, no subscription
    psql("old", "select pg_create_logical_replication_slot('pgr_appdb_sub', 'pgoutput')", "appdb");
    psql("pg1", "insert into pgbench_branches values (1, 0, '')", "appdb");
    const r = dev.run(["up", "--yes"]);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stdout + r.stderr,
      /tables of appdb already hold rows \(public\.pgbench_branches\), and the source still has the slot pgr_appdb_sub: a copy stopped before it ended left them; empty them \(TRUNCATE\) and run up again/,
    );
    psql("pg1", "truncate pgbench_branches", "appdb");
  });

  it("syncs under a writer: roles, schema, publication, subscription; the standbys keep streaming", async () => {
    app.start();
    await sleep(500);
    const out = await dev.upAsync();
    assert.match(out, /the slot pgr_appdb_sub an interrupted sync left on the source is dropped/);
    assert.match(out, /6 tables copied at the slot's snapshot/);
    assert.match(out, /indexes and constraints built after the data/);
    assert.match(out, /every table copied/);
    const indexes = "select string_agg(indexname, ' ' order by indexname) from pg_indexes where schemaname = 'public'";
    assert.equal(psql("pg1", indexes, "appdb"), psql("old", indexes, "appdb"), "every index of the source, built after the rows");
    const state = (dev.outputs().migration as { state: { tables: Record<string, string> } }).state;
    assert.deepEqual(new Set(Object.values(state.tables)), new Set(["ready"]), JSON.stringify(state));
    assert.equal(Object.keys(state.tables).length, 6);
    assert.equal(psql("pg1", "select rolname from pg_roles where rolname = 'app'"), "app", "the application's role came along");
    assert.equal(
      psql("pg1", `select admin_option from pg_auth_members where roleid = '"Readers, Inc"'::regrole and member = 'reporter'::regrole`),
      "t",
      "its membership came along, with its admin option",
    );
    assert.equal(
      psql(
        "pg1",
        "select string_agg(c, E'\\n' order by c) from pg_db_role_setting, unnest(setconfig) c where setrole = 'reporter'::regrole and setdatabase = 0",
      ),
      psql(
        "old",
        "select string_agg(c, E'\\n' order by c) from pg_db_role_setting, unnest(setconfig) c where setrole = 'reporter'::regrole and setdatabase = 0",
      ),
      "its settings came along as they were",
    );
    // (the order of a list of settings means nothing to PostgreSQL)
    const databaseSettings = `select string_agg(line, E'\n' order by line) from (
      select coalesce(r.rolname, '(everyone)') || ': ' || c as line
        from pg_db_role_setting s left join pg_roles r on r.oid = s.setrole, unnest(s.setconfig) c
       where s.setdatabase = (select oid from pg_database where datname = 'appdb')) l`;
    assert.equal(
      psql("pg1", databaseSettings),
      psql("old", databaseSettings),
      "what the source sets for its database, for everyone and for a role in it, came along",
    );
    assert.match(psql("pg1", databaseSettings), /work_mem=12MB/);
    const repl = dev.outputs().replicationState as { main: { standbys: Record<string, { state: string }> } };
    for (const s of ["pg2", "pg3"]) assert.equal(repl.main.standbys[s].state, "streaming");
    for (const m of ["pg1", "pg2", "pg3"]) {
      const argv = sshOk(m, "sudo -n cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '");
      assert.ok(!argv.includes(SOURCE_PASSWORD), `no process on ${m} has the password in its arguments`);
    }
    assert.doesNotMatch(dev.ok(["stack", "export"]), new RegExp(SOURCE_PASSWORD));
  });

  it("previews no change when synced", () => {
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
  });

  it("subscribes a table created on the source during the sync (H5): its schema, its rows and its later changes arrive", async () => {
    psql(
      "old",
      "create table late_arrival (id int primary key, note text); insert into late_arrival select g, 'late ' || g from generate_series(1, 3) g",
      "appdb",
    );
    const preview = dev.run(["preview", "--expect-no-changes"]);
    assert.notEqual(preview.code, 0, "the preview shows the subscription step running again for it");
    const out = dev.up();
    assert.match(out, /published since the schema copy, created here from the source's schema: public\.late_arrival/);
    assert.equal(psql("pg1", "select string_agg(note, ',' order by id) from late_arrival", "appdb"), "late 1,late 2,late 3");
    psql("old", "insert into late_arrival values (4, 'after the refresh')", "appdb");
    await eventually(
      "the insert made after the refresh reaches the target",
      () => psql("pg1", "select count(*) from late_arrival", "appdb") === "4",
    );
    const state = (dev.outputs().migration as { state: { tables: Record<string, string> } }).state;
    assert.equal(state.tables["public.late_arrival"], "ready", JSON.stringify(state));
  });

  it("a cutover killed inside its write pause (M6) leaves the source closed, and the next up starts it again from writable", async () => {
    const sourceOpen = () => psql("old", "select datallowconn from pg_database where datname = 'appdb'");
    // the subscription stays connected, but cannot apply the writer's orders, so the drain waits
    // until the kill: a trigger that fires for the subscription's inserts waits for a superuser's
    // advisory lock (the freeze ends no superuser session). An advisory lock takes no transaction
    // id, so the way back's slot does not wait for it, and no table lock, so neither does its
    // publication: both are made before the freeze
    const hold = await holdLock("pg1", "appdb", "select pg_advisory_lock(4242)", "pgr-test-advisory");
    psql(
      "pg1",
      `set default_transaction_read_only = off;
       create function pgr_test_hold() returns trigger language plpgsql as $$ begin perform pg_advisory_xact_lock_shared(4242); return new; end $$;
       create trigger pgr_test_hold before insert on orders for each row execute function pgr_test_hold();
       alter table orders enable always trigger pgr_test_hold;`,
      "appdb",
    );
    let killed: { code: number; stdout: string; stderr: string } | undefined;
    const release = () => {
      hold();
      psql("pg1", "set default_transaction_read_only = off; drop trigger pgr_test_hold on orders; drop function pgr_test_hold()", "appdb");
    };
    try {
      dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).phase = "cutover"));
      const running = dev.project.runAsync(["up", "--yes", "--stack", dev.stack]);
      try {
        await eventually("the cutover closes the source", () => sourceOpen() === "f", 180);
      } finally {
        // as a crash, or the step's timeout, ends it
        spawnSync("pkill", ["-KILL", "-f", "migrate/cutover[.]ts"]);
      }
      killed = await running;
      assert.notEqual(killed.code, 0, "the up whose cutover was killed fails");
    } finally {
      release();
    }
    assert.equal(sourceOpen(), "f", `the kill left the source closed to sessions: ${killed?.stdout ?? ""}${killed?.stderr ?? ""}`);
    assert.equal(psql("pg1", "select count(*) from pg_subscription"), "1", "nothing was dropped");
    const preview = dev.run(["preview"]);
    assert.equal(preview.code, 0, preview.stdout + preview.stderr);
    assert.match(
      preview.stdout + preview.stderr,
      /the source database appdb is closed to new sessions, .*the cutover opens it and starts again/,
    );
    // the next cutover opens the source and unfreezes both sides before it freezes again; with the
    // subscription disabled its lag gate then refuses, which leaves both as before the first freeze
    const readOnly = (member: string) =>
      psql(
        member,
        "select count(*) from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = 'appdb' and 'default_transaction_read_only=on' = any(s.setconfig)",
      );
    const subscription = (action: string) =>
      psql("pg1", `set default_transaction_read_only = off; alter subscription pgr_appdb_sub ${action}`, "appdb");
    subscription("disable");
    try {
      const again = await dev.project.runAsync(["up", "--yes", "--stack", dev.stack]);
      assert.notEqual(again.code, 0, "the cutover refuses a subscription that is not connected");
      assert.match(again.stdout + again.stderr, /the subscription has not been connected to the publisher for 60 s .*nothing frozen/);
    } finally {
      subscription("enable");
    }
    assert.equal(sourceOpen(), "t", "the source takes sessions again");
    assert.equal(readOnly("old"), "0", "the source takes writes again");
    assert.equal(readOnly("pg1"), "0", "the target is writable again");
  });

  it("cuts over under the writer: 0 rows lost, sequences ahead, the target takes writes", async () => {
    dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).phase = "cutover"));
    // a superuser writing past the read-only default: the freeze must hold against it too
    const rogue = new SuperuserWriter("migrator", SOURCE_PASSWORD);
    rogue.start();
    // on the target, a transaction running (an autovacuum's analyze, a user's), and a lock on a
    // migrated table that a CREATE PUBLICATION waits for (an autovacuum's, which gives way only
    // after deadlock_timeout): the way back's slot and publication wait for them before the
    // freeze, never inside the pause
    const holders = new Map([
      ["pg_create_logical_replication_slot", await holdLock("pg1", "postgres", "select pg_current_xact_id()")],
      ["create publication", await holdLock("pg1", "appdb", "lock table orders in share update exclusive mode", "pgr-test-table-lock")],
    ]);
    const running = dev.upAsync();
    let releasedAt = 0;
    try {
      const deadline = Date.now() + 180_000;
      while (holders.size > 0) {
        assert.ok(Date.now() < deadline, `not within 180 s: the way back's ${[...holders.keys()].join(" and ")} waiting on pg1`);
        for (const [statement, release] of holders) {
          const waits = `select count(*) from pg_stat_activity where query ilike '%${statement}%' and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
          if (psql("pg1", waits) !== "1") continue;
          await sleep(1000);
          releasedAt = Date.now();
          release();
          holders.delete(statement);
        }
        await sleep(200);
      }
    } finally {
      for (const release of holders.values()) release();
    }
    const out = await running;
    await rogue.stop();
    const report = (
      dev.outputs().migration as {
        cutoverReport: {
          mismatches: string[];
          tablesVerified: number;
          rowsVerified: number;
          sequencesSet: number;
          writePauseSeconds: number;
          checksums: string;
          pauseParts: Record<string, number>;
        };
      }
    ).cutoverReport;
    process.stderr.write(`      cutover report: ${JSON.stringify(report)}\n`);
    assert.deepEqual(report.mismatches, [], out);
    assert.match(out, /7 tables verified after the switch, as they were at it: \d+ rows, counts and checksums, 0 mismatches/);
    assert.equal(report.checksums, "after-switch");
    assert.deepEqual(
      Object.keys(report.pauseParts).sort(),
      ["drain", "endSessions", "sequences", "switch", "wayBack"],
      "nothing in the pause reads every row",
    );
    assert.equal(report.tablesVerified, 7);
    assert.ok(report.rowsVerified > 200_000, `${report.rowsVerified} rows verified`);
    assert.equal(report.sequencesSet, 2, "customers_id_seq and orders_id_seq");
    for (let i = 0; i < 100 && app.onTarget.length < 10; i++) await sleep(100);
    await app.stop();
    assert.ok(
      app.onSource.length > 10 && app.onTarget.length >= 10,
      `${app.onSource.length} orders on the source, ${app.onTarget.length} on the target`,
    );
    const onTarget = new Set(psql("pg1", "select id from orders", "appdb").split("\n").map(Number));
    assert.deepEqual(
      app.onSource.filter((id) => !onTarget.has(id)),
      [],
      "every order the source acknowledged is on the target",
    );
    assert.ok(Math.min(...app.onTarget) > Math.max(...app.onSource), "the target's ids continue after the source's");
    assert.ok(
      app.ackedAt[app.onSource.length - 1] > releasedAt,
      "the source took writes until the target's transaction and lock ended: the freeze came after them",
    );
    assert.ok(rogue.acknowledged.length > 0, "the superuser wrote before the freeze");
    assert.deepEqual(
      rogue.acknowledged.filter((id) => !onTarget.has(id)),
      [],
      `every order a superuser's session had acknowledged on the source is on the target (its session: ${rogue.stoppedBy})`,
    );
    assert.match(out, /superuser sessions ended on the source: migrator@/);
    assert.match(
      psql("old", "select setconfig::text from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = 'appdb'"),
      /default_transaction_read_only=on/,
    );
    assert.equal(psql("pg1", "select count(*) from pg_subscription"), "0");
  });

  const orderIds = (member: string) => new Set(psql(member, "select id from orders", "appdb").split("\n").map(Number));
  const waitForSource = async (ids: number[]) => {
    let missing = ids;
    for (let i = 0; i < 100; i++) {
      const onSource = orderIds("old");
      missing = ids.filter((id) => !onSource.has(id));
      if (missing.length === 0) break;
      await sleep(200);
    }
    return missing;
  };

  it("keeps the way back open: the read-only source follows every write on the target", async () => {
    assert.deepEqual(await waitForSource(app.onTarget), [], "every order the target acknowledged reached the source");
    // counted on the host: every statement of the run is logged, megabytes of them
    const count = (pattern: string) =>
      Number(sshOk("old", `sudo -n tail -c +${logFrom} ${OLD_LOG} | grep -c -i -e '${pattern}' || true`).trim());
    assert.ok(count("statement: ") > 0, "the old server logs statements");
    assert.equal(count("password="), 0, "the way back's password is in no log line of the old server");
    const refused = await insertOrder("old", APP_PASSWORD);
    assert.match(String(refused), /read-only transaction/, "the application cannot write on the source");
    const state = (dev.outputs().migration as { state: { wayBackLagBytes: number | null } }).state;
    assert.equal(typeof state.wayBackLagBytes, "number", JSON.stringify(state));
    // the cutover ran once: an input edited afterwards does not run it again
    dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).sequenceMargin = 2000));
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
    // a planned switchover of the target would lose the way back's slot: refused at preview, saying why
    dev.editCluster((c) => (c.leader = "pg2"));
    try {
      const switchover = dev.run(["preview"]);
      assert.notEqual(switchover.code, 0, "a switchover while the way back is open");
      assert.match(
        switchover.stdout + switchover.stderr,
        /clusters\[0\]\.leader: pg2 would take over from pg1 while the migration's way back is open; .*set migration\.phase to complete \(or revert\) first/,
      );
    } finally {
      dev.editCluster((c) => (c.leader = "pg1"));
    }
  });

  it("takes the way back: the application moves back onto the source with every row", async () => {
    const later: number[] = [];
    for (let i = 0; i < 5; i++) later.push(Number(await insertOrder("pg1", APP_PASSWORD)));
    dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).phase = "revert"));
    // a lock on the source's per-database settings (L7): the revert verifies and closes the way
    // back, then cannot make the source writable; it says so, and the next up finishes it
    const release = await holdLock("old", "postgres", "lock table pg_catalog.pg_db_role_setting in exclusive mode");
    let first;
    try {
      first = await dev.project.runAsync(["up", "--yes", "--stack", dev.stack]);
    } finally {
      release();
    }
    assert.notEqual(first.code, 0, "the revert fails while the source's settings are locked");
    assert.match(first.stdout, /revert: \d+ sequences set; 7 tables verified, \d+ rows, 0 mismatches/);
    assert.match(
      first.stdout + first.stderr,
      /the way back is closed and the source could not be made writable \(.*\): run up again to finish the revert; the target stays read-only/,
    );
    const out = await dev.upAsync();
    assert.match(out, /an interrupted revert had closed the way back: the source takes the writes again, the target stays read-only/);
    const report = (dev.outputs().migration as { revertReport: { mismatches: string[]; resumed: boolean; sourceWritable: boolean } })
      .revertReport;
    process.stderr.write(`      revert report: ${JSON.stringify(report)}\n`);
    assert.deepEqual(report.mismatches, [], out);
    assert.equal(report.resumed, true);
    assert.deepEqual(await waitForSource([...app.onTarget, ...later]), [], "nothing written on the target is missing on the source");
    const back = await insertOrder("old", APP_PASSWORD);
    assert.equal(typeof back, "number", `the source takes the application's writes again: ${back}`);
    assert.ok(Number(back) > Math.max(...later), "the source's ids continue after the target's");
    assert.match(String(await insertOrder("pg1", APP_PASSWORD)), /read-only transaction/, "the target refuses the application now");
    assert.equal(psql("old", "select count(*) from pg_subscription"), "0");
    assert.equal(
      psql("pg1", "select count(*) from pg_replication_slots where slot_name = 'pgr_appdb_back'"),
      "0",
      "the way back's slot is gone",
    );
    assert.equal(psql("pg1", "select count(*) from pg_roles where rolname = 'pgr_wayback'"), "0");
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
  });

  it("completes, and a rerun changes nothing", () => {
    dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).phase = "complete"));
    assert.equal(
      ssh("pg1", "sudo -n test -e /var/lib/postgresql/.pg-replication-source.pgpass").code,
      0,
      "the source's passfile during the migration",
    );
    dev.up();
    assert.notEqual(
      ssh("pg1", "sudo -n test -e /var/lib/postgresql/.pg-replication-source.pgpass").code,
      0,
      "the source superuser's password is gone from the target leader once the migration is complete",
    );
    const r = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(r.code, 0, r.stdout);
    assert.equal(ssh("old", "true").code, 0);
  });
});
