// make bench-refresh: a refresh of sandbox-staging from sandbox-production at pgbench scale
// BENCH_REFRESH_SCALE (200 by default) beside a raw `pgbackrest restore` of the same backup (files
// only, on the repository host), with each part of the refresh and masking's share. Prints a
// table; asserts nothing.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { DEV_PASSPHRASE } from "../test/support/devStack";
import { EngineProject } from "../test/support/engine";
import { psql, sshOk } from "../test/support/sandbox";

const ROOT = path.resolve(__dirname, "..");
const SCALE = Number(process.env.BENCH_REFRESH_SCALE ?? 200);
const PEOPLE = 100_000;
const project = new EngineProject("pg-replication", DEV_PASSPHRASE);
const seconds = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;
const tool = (script: string, args: string[], env: Record<string, string>) => {
  const r = spawnSync("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", script), ...args], {
    cwd: project.dir,
    env: { ...project.env, PGR_PROJECT_DIR: project.dir, ...env },
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${script} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

try {
  for (const m of ["stg1", "stg2", "prod1", "prod2"])
    sshOk(
      m,
      "sudo -n pg_dropcluster 15 main --stop && sudo -n rm -rf /etc/postgresql/15/main && sudo -n pg_createcluster 15 main --start >/dev/null",
    );
  sshOk("backup", "sudo -n rm -rf /var/lib/pgbackrest/archive/sandbox-production-main /var/lib/pgbackrest/backup/sandbox-production-main");
  for (const s of ["sandbox-staging", "sandbox-production"]) {
    project.copyStackFile(s);
    project.initStack(s);
    project.setConfig(s, "pg-replication:previewPassword", "preview-only-reads", true);
  }
  process.stderr.write("bench-refresh: sandbox-production up\n");
  project.ok(["up", "--yes", "--stack", "sandbox-production"]);
  psql("prod1", "create database appdb");
  process.stderr.write(`bench-refresh: pgbench -i -s ${SCALE} and ${PEOPLE} people on prod1\n`);
  sshOk("prod1", `cd / && sudo -n -u postgres /usr/lib/postgresql/15/bin/pgbench -i -q -s ${SCALE} appdb >/dev/null 2>&1`);
  psql(
    "prod1",
    `create table people (id int primary key, email text unique not null, full_name text, phone text, notes text);
     insert into people select g, 'person' || g || '@library.example.org', 'Reader ' || g, '+44 20 7946 ' || lpad((g % 10000)::text, 4, '0'), 'borrowed book ' || g from generate_series(1, ${PEOPLE}) g`,
    "appdb",
  );
  const size = psql("prod1", "select pg_size_pretty(pg_database_size('appdb'))");
  tool("backup.ts", ["sandbox-production"], { TYPE: "full" });
  process.stderr.write("bench-refresh: sandbox-staging up\n");
  project.ok(["up", "--yes", "--stack", "sandbox-staging"]);

  let t = process.hrtime.bigint();
  sshOk(
    "backup",
    "cd / && sudo -n rm -rf /var/tmp/bench-restore && sudo -n -u postgres pgbackrest --config=/dev/null --repo1-path=/var/lib/pgbackrest --stanza=sandbox-production-main --pg1-path=/var/tmp/bench-restore --log-level-console=warn restore && sudo -n rm -rf /var/tmp/bench-restore",
  );
  const raw = seconds(t);
  t = process.hrtime.bigint();
  const out = tool("refresh.ts", [], { FROM: "sandbox-production", TO: "sandbox-staging" });
  const refresh = seconds(t);
  const part = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const rows: [string, string][] = [
    [`raw pgbackrest restore of the backup (files only), scale ${SCALE}, ${size}`, raw.toFixed(2)],
    ["make refresh, whole", refresh.toFixed(2)],
    ["  of which the restore (delta, over the leader's data)", part(/restored in ([0-9]+) s/).toFixed(0)],
    ["  of which WAL replay and promotion", part(/recovered and promoted in ([0-9]+) s/).toFixed(0)],
    [`  of which masking (${PEOPLE} rows, 4 columns, rewritten)`, part(/masked in ([0-9]+) s/).toFixed(0)],
    ["  of which the standbys copied again (pulumi up)", part(/updated \(standbys copied from the leader\): ([0-9.]+) s/).toFixed(1)],
    ["ratio refresh / raw restore", (refresh / raw).toFixed(2)],
  ];
  const w = Math.max(...rows.map(([l]) => l.length));
  console.log("\nrefresh of sandbox-staging from sandbox-production's backup, same run");
  for (const [l, v] of rows) console.log(`${l.padEnd(w)}  ${v.padStart(8)}`);
} finally {
  project.dispose();
}
