// Production's data into staging, masked, through the real engine and the real pgBackRest on the
// sandbox: sandbox-production backs up to host backup; sandbox-staging reads that repository
// through its own read-only account and never reaches prod1 or prod2.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { dump, load } from "js-yaml";
import { Client } from "pg";
import { DEV_PASSPHRASE } from "../support/devStack";
import { EngineProject } from "../support/engine";
import { eventually } from "../support/hosts";
import { host, psql, sshOk } from "../support/sandbox";

const ROOT = path.resolve(__dirname, "../..");
const STAGING = "sandbox-staging";
const PRODUCTION = "sandbox-production";
const APP_PASSWORD = "production-app-secret";
const PEOPLE = 120;

describe("refresh of staging from production's backups, masked", function () {
  this.timeout(1_800_000);
  const project = new EngineProject("pg-replication", DEV_PASSPHRASE);
  const tool = (script: string, args: string[], env: Record<string, string>) => {
    const r = spawnSync("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", script), ...args], {
      cwd: project.dir,
      env: { ...project.env, PGR_PROJECT_DIR: project.dir, ...env },
      encoding: "utf8",
      maxBuffer: 64 << 20,
      timeout: 1_200_000,
    });
    return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
  };
  const refresh = (env: Record<string, string> = {}) => tool("refresh.ts", [], { FROM: PRODUCTION, TO: STAGING, ...env });
  const rows = (member: string, sql: string) => psql(member, sql, "appdb").split("\n").filter(Boolean);
  // what production holds, and held before its last updates (dead row versions in its files)
  let production: { people: string[]; orders: string; emails: Set<string>; started: string; files: string; logLines: number };

  before(() => {
    for (const m of ["stg1", "stg2", "prod1", "prod2"])
      sshOk(
        m,
        "sudo -n pg_dropcluster 15 main --stop && sudo -n rm -rf /etc/postgresql/15/main && sudo -n pg_createcluster 15 main --start >/dev/null",
      );
    for (const s of [STAGING, PRODUCTION]) {
      project.copyStackFile(s);
      project.initStack(s);
      project.setConfig(s, "pg-replication:previewPassword", "preview-only-reads", true);
    }
    // staging backs up too: a refresh must leave it a stanza of the new system and a masked full backup
    const file = project.stackFile(STAGING);
    const doc = load(fs.readFileSync(file, "utf8")) as { config: Record<string, Record<string, unknown>[]> };
    doc.config["pg-replication:clusters"][0].backup = {
      stanza: "sandbox-staging-main",
      repository: { host: "backup", address: "10.77.0.40" },
    };
    fs.writeFileSync(file, dump(doc, { lineWidth: 200 }));
    // stanzas of this run's own: an earlier run's backups are of other systems
    for (const stanza of ["sandbox-production-main", "sandbox-staging-main"])
      sshOk("backup", `sudo -n rm -rf /var/lib/pgbackrest/archive/${stanza} /var/lib/pgbackrest/backup/${stanza}`);
    project.ok(["up", "--yes", "--stack", PRODUCTION]);
    psql("prod1", "create database appdb");
    psql("prod1", `create role app login password '${APP_PASSWORD}'`);
    psql(
      "prod1",
      [
        "create table people (id int primary key, email text unique not null, full_name text, phone text, notes text, postal_address text)",
        "create table orders (id int primary key, person_id int not null references people, amount int)",
        `insert into people select g, 'person' || g || '@library.example.org', 'Reader Number ' || g, '+44 20 7946 ' || lpad(g::text, 4, '0'), 'borrowed book ' || g from generate_series(1, ${PEOPLE}) g`,
        `insert into orders select g, 1 + g % ${PEOPLE}, g * 3 from generate_series(1, 300) g`,
        "grant select on people, orders to app",
      ].join(";"),
      "appdb",
    );
    // earlier values, left as dead row versions in production's files
    psql("prod1", "update people set email = 'old-' || email, notes = 'old ' || notes where id <= 20", "appdb");
    psql("prod1", "update people set email = substr(email, 5), notes = substr(notes, 5) where id <= 20", "appdb");
    const backup = tool("backup.ts", [PRODUCTION], { TYPE: "full" });
    assert.equal(backup.code, 0, backup.out);
    project.ok(["up", "--yes", "--stack", STAGING]);
    production = {
      people: rows("prod1", "select id || '|' || email || '|' || full_name || '|' || phone || '|' || notes from people order by id"),
      orders: psql("prod1", "select count(*) || ':' || sum(amount) from orders join people on people.id = person_id", "appdb"),
      emails: new Set([
        ...rows("prod1", "select email from people"),
        ...rows("prod1", "select 'old-' || email from people where id <= 20"),
      ]),
      started: psql("prod1", "select pg_postmaster_start_time()"),
      files: sshOk("prod1", "sudo -n find /etc/postgresql /etc/pgbackrest -type f -exec md5sum {} + | sort"),
      logLines: Number(sshOk("prod1", "sudo -n cat /var/log/postgresql/postgresql-15-main.log | wc -l").trim()),
    };
  });
  after(() => project.dispose());

  it("refuses a production stack as the one refreshed, and a moment outside production's recovery window", () => {
    const intoProduction = tool("refresh.ts", [], { FROM: STAGING, TO: PRODUCTION });
    assert.notEqual(intoProduction.code, 0);
    assert.match(intoProduction.out, /refused: sandbox-production is a production stack/);
    const tooEarly = refresh({ AT: "2001-01-01 00:00:00+00" });
    assert.notEqual(tooEarly.code, 0);
    assert.match(tooEarly.out, /refused: AT 2001-01-01 00:00:00(\.000)?\+00 is outside sandbox-production's recovery window/);
    assert.equal(psql("stg1", "select count(*) from pg_database where datname = 'appdb'"), "0", "staging untouched");
  });

  let firstMasked: string[];
  it("brings production's rows to staging, masked, its standby copied from the masked leader, production untouched", async () => {
    const r = refresh();
    assert.equal(r.code, 0, r.out);
    const masked = new RegExp(`masked appdb\\.public\\.people: ${PEOPLE} rows, columns (.*)`).exec(r.out);
    assert.deepEqual(masked?.[1].split(", ").sort(), ["email", "full_name", "notes", "phone"], r.out);
    assert.match(r.out, /sandbox-staging updated/);
    assert.match(
      r.out,
      /sandbox-staging-main: stanza upgraded to the refreshed system[^]*sandbox-staging-main: full backup of the masked data/,
    );
    const info = JSON.parse(sshOk("backup", "cd / && sudo -n -u postgres pgbackrest --stanza=sandbox-staging-main --output=json info")) as {
      status: { code: number };
      backup: { database: { id: number } }[];
    }[];
    assert.equal(info[0].status.code, 0, JSON.stringify(info[0].status));
    assert.equal(info[0].backup.pop()?.database.id, 2, "the last backup is of the refreshed system");
    sshOk("backup", "cd / && sudo -n -u postgres pgbackrest --stanza=sandbox-staging-main check");
    assert.match(r.out, /needs attention: appdb\.public\.people\.postal_address looks like personal data and no masking rule covers it/);
    assert.doesNotMatch(r.out, /needs attention: appdb\.public\.people\.email/);

    const staged = rows("stg1", "select id || '|' || email || '|' || full_name || '|' || phone || '|' || notes from people order by id");
    assert.equal(staged.length, PEOPLE, "production's row count");
    staged.forEach((line, i) => {
      const [id, ...masked] = line.split("|");
      const [pid, ...real] = production.people[i].split("|");
      assert.equal(id, pid);
      masked.forEach((v, c) => assert.notEqual(v, real[c], `people ${id}, column ${c + 1} is production's value`));
    });
    assert.equal(psql("stg1", "select count(distinct email) from people", "appdb"), String(PEOPLE), "emails stay unique");
    assert.equal(
      psql("stg1", "select count(*) || ':' || sum(amount) from orders join people on people.id = person_id", "appdb"),
      production.orders,
    );

    // no row version of the masked table, live or dead, holds a production value
    psql("stg1", "create extension if not exists pg_dirtyread", "appdb");
    const everyVersion = rows(
      "stg1",
      "select email from pg_dirtyread('people') as t(tableoid oid, ctid tid, xmin xid, xmax xid, cmin cid, cmax cid, dead boolean, id int, email text, full_name text, phone text, notes text, postal_address text)",
    );
    assert.equal(everyVersion.length, PEOPLE, "no dead row version left");
    assert.deepEqual(
      everyVersion.filter((e) => production.emails.has(e)),
      [],
    );

    // production's passwords fail on staging; the app role has no login there
    const app = new Client({
      host: host("stg1").address,
      port: 5432,
      user: "app",
      password: APP_PASSWORD,
      database: "appdb",
      ssl: { rejectUnauthorized: false },
    });
    await assert.rejects(app.connect());
    assert.equal(psql("stg1", "select rolcanlogin from pg_roles where rolname = 'app'"), "f");

    await eventually(
      "stg2 streams from the refreshed leader",
      () => psql("stg2", "select status from pg_stat_wal_receiver") === "streaming",
    );
    assert.equal(psql("stg2", "select count(*) from people where email like 'user\\_%@example.invalid'", "appdb"), String(PEOPLE));
    project.ok(["preview", "--expect-no-changes", "--stack", STAGING]);
    // the pull-request report names the personal-looking column that no rule masks, on staging
    const report = spawnSync("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "report", "prPreview.ts")], {
      cwd: project.dir,
      env: { ...project.env, STACKS: STAGING, PGR_PREVIEW_DIR: project.dir },
      encoding: "utf8",
      timeout: 600_000,
    });
    assert.match(
      report.stdout,
      /### Needs attention\n(- .*\n)*- `sandbox-staging` cluster main: appdb\.public\.people\.postal_address looks like personal data and no masking rule covers it\n/,
      `${report.stdout}\n${report.stderr}`,
    );
    assert.doesNotMatch(report.stdout, /people\.(email|phone|full_name) looks like/, "a masked column listed");

    assert.equal(psql("prod1", "select pg_postmaster_start_time()"), production.started, "production's server was not restarted");
    assert.equal(sshOk("prod1", "sudo -n find /etc/postgresql /etc/pgbackrest -type f -exec md5sum {} + | sort"), production.files);
    const newLog = sshOk("prod1", `sudo -n tail -n +${production.logLines + 1} /var/log/postgresql/postgresql-15-main.log`);
    assert.doesNotMatch(newLog, /10\.77\.0\.2[12]/, "a staging address in production's log");
    firstMasked = staged;
  });

  it("a second refresh is a clean repeat: the same rows, masked the same way", () => {
    const r = refresh();
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(
      rows("stg1", "select id || '|' || email || '|' || full_name || '|' || phone || '|' || notes from people order by id"),
      firstMasked,
    );
  });

  it("restore-cluster brings production back to just before a mistaken DELETE, its standby copied again, its logins kept", async () => {
    const restore = (env: Record<string, string>) => tool("restoreCluster.ts", [PRODUCTION], env);
    const xid = psql("prod1", "begin; delete from orders where id % 2 = 0; select pg_current_xact_id(); commit;", "appdb")
      .split("\n")
      .filter(Boolean)
      .pop()!;
    assert.equal(psql("prod1", "select count(*) from orders", "appdb"), "150");
    const refused = restore({ XID: xid });
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /refused: .*say so with CONFIRM=main/);
    const r = restore({ XID: xid, CONFIRM: "main" });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /restored from its own backups \(xid /);
    assert.equal(psql("prod1", "select count(*) from orders", "appdb"), "300");
    const app = new Client({
      host: host("prod1").address,
      port: 5432,
      user: "app",
      password: APP_PASSWORD,
      database: "appdb",
      ssl: { rejectUnauthorized: false },
    });
    await app.connect();
    await app.end();
    await eventually(
      "prod2 streams from the restored leader",
      () => psql("prod2", "select status from pg_stat_wal_receiver") === "streaming",
    );
    assert.equal(psql("prod2", "select count(*) from orders", "appdb"), "300");
  });
});
