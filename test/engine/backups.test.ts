// Backups through the real engine and the real pgBackRest on the sandbox, on the shared dev stack
// (its stack file backs up to host backup): a backup under a writer, one table brought back
// beside the live one, the commit that deleted found in the archived WAL, a restore across a
// switchover's new timeline, the repository host down and back, and bad input refused.
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { devStack } from "../support/devStack";
import { eventually, isPrimary, streamingFrom } from "../support/hosts";
import { Writer } from "../support/load";
import { SANDBOX_DIR, psql, sshOk } from "../support/sandbox";

const ROOT = path.resolve(__dirname, "../..");
const DB = "backuptest";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface BackupsOutput {
  main: { state: { status: string; earliest?: string; archiving: { healthy: boolean; failingSince?: string; reason?: string } } };
}

describe("backups through the engine", function () {
  this.timeout(1_800_000);
  const dev = devStack();

  /** One of the make targets' scripts, as `make <target> STACK=dev` runs it, against the test's stack. */
  const tool = (script: string, env: Record<string, string>) =>
    spawnSync("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", script), "dev"], {
      cwd: dev.project.dir,
      env: { ...dev.project.env, ...env },
      encoding: "utf8",
      timeout: 900_000,
    });
  const toolAsync = (script: string, env: Record<string, string>) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", script), "dev"], {
        cwd: dev.project.dir,
        env: { ...dev.project.env, ...env },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  const leaderNow = (leader = "pg1") => psql(leader, "select now()");
  const sorted = (leader = "pg1") => psql(leader, "select md5(string_agg(id || ':' || note, ',' order by id)) from orders", DB);
  const restoredSchema = (out: string) => /into (restored_[0-9_]+)\.orders/.exec(out)?.[1] ?? assert.fail(`no restored schema in:\n${out}`);
  const schemas = (leader = "pg1") => psql(leader, "select count(*) from pg_namespace where nspname like 'restored\\_%'", DB);
  const noScratch = () => {
    assert.equal(sshOk("backup", "ls /var/tmp | grep -c pg-replication-restore || true").trim(), "0", "a scratch folder is left on backup");
    assert.equal(sshOk("backup", "pgrep -c -f 'pg-replication-restor[e]' || true").trim(), "0", "a scratch instance still runs on backup");
  };

  before(() => {
    dev.ensureUp();
    psql("pg1", `drop database if exists ${DB}`);
    psql("pg1", `create database ${DB}`);
    psql("pg1", "create table orders (id int primary key, customer int not null, note text); create index on orders (customer)", DB);
    psql("pg1", "insert into orders select g, g % 7, 'order ' || g from generate_series(1, 500) g", DB);
    psql("pg1", "drop table if exists pgr_writes; create table pgr_writes (id bigint primary key)");
  });

  it("archives from the leader and reports the recovery window in the outputs", () => {
    const backups = dev.outputs().backups as BackupsOutput;
    assert.equal(backups.main.state.archiving.healthy, true, JSON.stringify(backups.main.state));
    const conf = sshOk("pg2", "sudo -n cat /etc/pgbackrest/conf.d/main.conf");
    assert.match(conf, /^archive-push-queue-max=4GB$/m);
    assert.equal(psql("pg2", "show archive_mode"), "on", "a standby archives once promoted");
  });

  it("brings back exactly the rows a DELETE removed, beside the live table, from a backup taken under a writer", async () => {
    const writer = new Writer(["pg1"], dev.secret("adminPassword"));
    writer.start();
    await eventually("the writer writes", () => writer.acknowledged.length > 0);
    const before = writer.acknowledged.length;
    const backup = await toolAsync("backup.ts", { TYPE: "full" });
    const written = await writer.stop();
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(backup.stdout, /backup \(full\) of stanza main: done/);
    assert.ok(written.length > before, "the writer wrote during the backup");

    await sleep(1500);
    const at = leaderNow();
    await sleep(1500);
    psql("pg1", "delete from orders where id % 10 = 0; update orders set note = 'changed' where id = 1", DB);
    const live = sorted();
    const r = tool("restoreTable.ts", { DB, TABLE: "public.orders", AT: at });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /restored 500 rows of public\.orders/);
    assert.match(r.stdout, /by primary key \(id\): 50 only in the backup, 0 only live, 1 changed/);
    const schema = restoredSchema(r.stdout);
    const back = psql(
      "pg1",
      `select string_agg(id::text, ',' order by id) from ${schema}.orders r where not exists (select 1 from orders l where l.id = r.id)`,
      DB,
    );
    assert.equal(back, Array.from({ length: 50 }, (_, i) => String((i + 1) * 10)).join(","), "exactly the deleted rows");
    assert.equal(psql("pg1", `select count(*) from pg_indexes where schemaname = '${schema}'`, DB), "2", "its indexes came too");
    assert.equal(sorted(), live, "the live table was not written");
    noScratch();
  });

  it("says each bad input in one line, creating nothing on the leader and leaving no scratch instance", () => {
    const before = schemas();
    const cases: [Record<string, string>, RegExp][] = [
      [{ DB: "nosuchdb", TABLE: "public.orders", AT: leaderNow() }, /^restore-table: there is no database nosuchdb on pg1$/],
      [
        { DB, TABLE: "public.nosuchtable", AT: leaderNow() },
        /^restore-table: there was no table public\.nosuchtable in database backuptest at /,
      ],
      [
        { DB, TABLE: "public.orders", AT: "2020-01-01 00:00:00+00" },
        /^restore-table: AT 2020-01-01 00:00:00\.000\+00 is outside the recovery window: from /,
      ],
      [
        { DB, TABLE: "public.orders", AT: leaderNow(), WHERE: "id = " },
        /^restore-table: WHERE is not a condition on public\.orders: syntax error/,
      ],
      [{ DB, TABLE: "public.orders", AT: "2026-12-02 10:00:00" }, /^restore-table: AT must end with its time zone/],
    ];
    for (const [env, expected] of cases) {
      const r = tool("restoreTable.ts", env);
      assert.notEqual(r.status, 0, `${JSON.stringify(env)} passed`);
      const lines = r.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("restore-table:") && !l.includes("recovering"));
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], expected);
    }
    assert.equal(schemas(), before, "nothing was created on the leader");
    noScratch();
  });

  it("finds the DELETE in the archived WAL, and restores to just before it by its transaction id", () => {
    const since = leaderNow();
    const xid = psql("pg1", "begin; delete from orders where id between 101 and 105; select pg_current_xact_id(); commit", DB);
    const points = tool("recoveryPoints.ts", { DB, SINCE: since });
    assert.equal(points.status, 0, points.stderr);
    assert.match(points.stdout, new RegExp(`xid ${xid} .*DELETE 5 rows from public\\.orders`));
    const r = tool("restoreTable.ts", { DB, TABLE: "public.orders", XID: xid });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /restored 450 rows/);
    assert.match(r.stdout, /by primary key \(id\): 5 only in the backup, 0 only live, 0 changed/);
    noScratch();
  });

  it("keeps archiving across a switchover, and restores across the new timeline", async () => {
    dev.editCluster((c) => (c.leader = "pg2"));
    try {
      dev.up();
      await eventually("pg2 leads", () => isPrimary("pg2"));
      psql("pg2", "insert into orders select g, 1, 'after the switch' from generate_series(2001, 2010) g", DB);
      await sleep(1500);
      const at = leaderNow("pg2");
      await sleep(1500);
      psql("pg2", "delete from orders where id > 2005", DB);
      const r = tool("restoreTable.ts", { DB, TABLE: "public.orders", AT: at });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, / on pg2 /);
      assert.match(r.stdout, /: 5 only in the backup, 0 only live, 0 changed/);
    } finally {
      dev.editCluster((c) => (c.leader = "pg1"));
      dev.up();
      await eventually("pg2 streams from pg1", () => streamingFrom("pg2", "pg1"));
    }
  });

  it("rebuilds a former leader from the backups with --delta, and it streams the leader's rows", async () => {
    // pg2 led in the test before: its files are mostly the leader's, so the delta restore writes little
    psql("pg1", "insert into orders select g, 2, 'before the delta rebuild' from generate_series(3001, 3010) g", DB);
    dev.editCluster((c) => {
      (c.backup as Record<string, unknown>).standbyRebuild = "delta";
      c.hosts.find((h) => h.name === "pg2")!.rebuild = `delta-${Date.now()}`;
    });
    try {
      const out = dev.up();
      assert.match(
        out,
        /pg2: rebuilding as a standby of pg1 \(10\.77\.0\.11:5432\) from stanza main's latest backup \(pgbackrest restore --delta/,
      );
      assert.match(out, /pg2: standby of pg1 \(10\.77\.0\.11:5432\): rebuilt from the backups and streaming/);
      await eventually("pg2 streams from pg1", () => streamingFrom("pg2", "pg1"));
      await eventually("pg2 holds pg1's rows", () => sorted("pg2") === sorted("pg1"));
      assert.equal(sshOk("pg2", "cat /etc/postgresql/15/main/start.conf | grep -v '^#' | tr -d '[:space:]'"), "auto");
      assert.equal(psql("pg2", "show restore_command"), "", "a standby never reads the archive once it streams");
      assert.equal(
        psql("pg2", "select coalesce(string_agg(name, ', '), '') from pg_settings where pending_restart"),
        "",
        "the rebuild leaves no setting waiting for a restart (the next change would restart the member)",
      );
    } finally {
      dev.editCluster((c) => {
        delete (c.backup as Record<string, unknown>).standbyRebuild;
        delete c.hosts.find((h) => h.name === "pg2")!.rebuild;
      });
      dev.up();
    }
  });

  it("backs up to an S3 store beside the repository host, and restores a table from it", () => {
    const s3 = Object.fromEntries(
      fs
        .readFileSync(path.join(SANDBOX_DIR, "s3.env"), "utf8")
        .split("\n")
        .filter((l) => /^S3_[A-Z_]+=/.test(l))
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    dev.project.setConfig("dev", "pg-replication:backupS3Key", s3.S3_ACCESS_KEY, true);
    dev.project.setConfig("dev", "pg-replication:backupS3Secret", s3.S3_SECRET_KEY, true);
    dev.editCluster((c) => {
      (c.backup as Record<string, unknown>).s3 = {
        endpoint: s3.S3_ENDPOINT,
        bucket: s3.S3_BUCKET,
        region: s3.S3_REGION,
        uriStyle: s3.S3_URI_STYLE,
        path: "/engine-test",
        caFile: s3.S3_CA_FILE,
      };
    });
    const out = dev.up();
    assert.match(out, /stanza main: created or found, and WAL reaches the repository/);
    assert.doesNotMatch(out, new RegExp(s3.S3_SECRET_KEY), "the S3 secret never shows");
    const keys = sshOk("pg1", "sudo -n stat -c '%U %a' /etc/pgbackrest/conf.d/main-s3-credentials.conf").trim();
    assert.equal(keys, "postgres 600");
    // the labels, not their count: the retention may expire an old full backup as a new one lands
    const inS3 = () =>
      (
        JSON.parse(sshOk("backup", "cd / && sudo -n -u postgres pgbackrest --stanza=main --repo=2 --output=json info")) as {
          backup: { label: string; type: string }[];
        }[]
      )[0].backup;
    const before = new Set(inS3().map((b) => b.label));
    const backup = tool("backup.ts", { TYPE: "full", REPO: "2" });
    assert.equal(backup.status, 0, backup.stderr);
    assert.match(backup.stdout, /backup \(full\) of stanza main in repository 2: done/);
    assert.deepEqual(
      inS3()
        .filter((b) => !before.has(b.label))
        .map((b) => b.type),
      ["full"],
      "one new full backup in S3",
    );
    const at = leaderNow();
    psql("pg1", "delete from orders where id between 201 and 203", DB);
    const r = tool("restoreTable.ts", { DB, TABLE: "public.orders", AT: at, REPO: "2" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: 3 only in the backup, 0 only live, 0 changed/);
    noScratch();
  });

  it("says archiving fails while the repository host is down, since when, and catches up with no gap once it is back", async () => {
    sandboxScript("stop-sshd.sh", "backup");
    try {
      for (let i = 0; i < 2; i++)
        psql("pg1", "insert into pgr_writes select coalesce(max(id), 0) + 1 from pgr_writes; select pg_switch_wal()");
      await eventually(
        "archiving fails on pg1",
        () => psql("pg1", "select coalesce(last_failed_time > coalesce(last_archived_time, 'epoch'), false) from pg_stat_archiver") === "t",
        120,
      );
      const status = tool("status.ts", {});
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /archiving: FAILING since \d{4}-\d\d-\d\dT/);
      dev.up();
      const state = (dev.outputs().backups as BackupsOutput).main.state;
      assert.equal(state.archiving.healthy, false);
      assert.ok(state.archiving.failingSince, JSON.stringify(state));
      assert.match(state.status, /repository host backup could not be read/);
    } finally {
      sandboxScript("up.sh");
    }
    await eventually(
      "archiving catches up",
      () => psql("pg1", "select coalesce(last_archived_time > last_failed_time, false) from pg_stat_archiver") === "t",
      180,
    );
    sshOk("backup", "cd / && sudo -n -u postgres pgbackrest --stanza=main check");
    // every archived segment since the oldest backup is there and sound: no gap
    sshOk("backup", "cd / && sudo -n -u postgres pgbackrest --stanza=main verify");
    dev.up();
    assert.equal((dev.outputs().backups as BackupsOutput).main.state.archiving.healthy, true);
  });
});

function sandboxScript(script: string, arg?: string): void {
  const r = spawnSync("bash", [path.join(ROOT, "sandbox", script), ...(arg ? [arg] : [])], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script}: ${r.stdout}${r.stderr}`);
}
