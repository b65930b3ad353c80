// make bench: what the engine and the hosts cost, how a standby built by `pulumi up` compares
// with a raw pg_basebackup of the same leader, in the same run, and how long an application on
// libpq cannot write during a planned switchover. Prints tables; asserts
// nothing (timings belong here, not in tests). BENCH_SCALES="50 200" sets the pgbench scales.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { devStack } from "../test/support/devStack";
import { LibpqWriter, prepareLibpqWriter, removeLibpqWriter } from "../test/support/libpqWriter";
import { OrderWriter } from "../test/support/load";
import { SANDBOX_DIR, host, psql, sshOk } from "../test/support/sandbox";

const ROUNDS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = path.resolve(__dirname, "..");
const rows: [string, number[]][] = [];

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

function measure(label: string, fn: () => void, rounds = ROUNDS): void {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push(time(fn));
  rows.push([label, times]);
  process.stderr.write(`  ${label}: ${times.map((s) => s.toFixed(2)).join(", ")} s\n`);
}

function table(): void {
  const w = Math.max(...rows.map(([l]) => l.length));
  console.log(`\n${"what".padEnd(w)}  ${"min s".padStart(7)}  ${"median s".padStart(8)}  ${"max s".padStart(7)}  runs`);
  for (const [label, t] of rows) {
    const s = [...t].sort((a, b) => a - b);
    console.log(
      `${label.padEnd(w)}  ${s[0].toFixed(2).padStart(7)}  ${s[Math.floor(s.length / 2)].toFixed(2).padStart(8)}  ${s[s.length - 1].toFixed(2).padStart(7)}  ${t.length}`,
    );
  }
}

const dev = devStack();
process.stderr.write("bench: bringing the dev stack up\n");
dev.up();

// BENCH_PARTS picks sections: fixed standby migration switchover (all by default)
const parts = new Set((process.env.BENCH_PARTS ?? "fixed standby migration switchover").split(/\s+/));
let profileLines: string[] = [];
if (parts.has("fixed")) fixedCosts();

function fixedCosts(): void {
  measure("ssh round trip (true)", () => sshOk("pg2", "true"));
  measure("pulumi preview, no changes (dev stack)", () => dev.ok(["preview", "--expect-no-changes"]));
  measure("pulumi up, no changes (dev stack)", () => dev.ok(["up", "--yes", "--skip-preview"]));
  const emptyProgram = emptyProject();
  measure("pulumi preview of an empty program (same SDK and tsconfig)", () =>
    execFileSync("pulumi", ["preview", "--non-interactive"], { cwd: emptyProgram.dir, env: emptyProgram.env, stdio: "ignore" }),
  );
  fs.rmSync(emptyProgram.dir, { recursive: true, force: true });
  const floor = floorProject(commandInputSizes());
  measure(`pulumi preview of the dev stack's ${floor.steps} command steps alone (same sizes and SDK, nothing read)`, () =>
    execFileSync("pulumi", ["preview", "--non-interactive", "--expect-no-changes"], { cwd: floor.dir, env: floor.env, stdio: "ignore" }),
  );
  fs.rmSync(floor.dir, { recursive: true, force: true });
  const profiled = execFileSync("pulumi", ["preview", "--non-interactive", "--stack", "dev"], {
    cwd: dev.project.dir,
    env: { ...dev.project.env, PGR_PROFILE: "1" },
    encoding: "utf8",
  });
  profileLines = [
    ...new Set(
      profiled
        .split("\n")
        .filter((l) => /^\s+profile: /.test(l))
        .map((l) => l.trim()),
    ),
  ];
}

/** A Pulumi project whose program declares nothing, beside the dev stack's: the engine's own floor. */
function emptyProject(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-empty-"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
  fs.writeFileSync(path.join(dir, "index.ts"), "export const nothing = 1;\n");
  fs.writeFileSync(path.join(dir, "package.json"), '{ "name": "empty", "main": "index.ts" }\n');
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")) as Record<string, unknown>;
  fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ ...tsconfig, include: ["index.ts"] }));
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  fs.mkdirSync(path.join(dir, ".state"));
  const env = { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`, PULUMI_CONFIG_PASSPHRASE: "empty" };
  execFileSync("pulumi", ["stack", "init", "empty", "--non-interactive"], { cwd: dir, env, stdio: "ignore" });
  return { dir, env };
}

/** The size of each command step's inputs in the dev stack's state, as the engine diffs them. */
function commandInputSizes(): number[] {
  const state = JSON.parse(dev.ok(["stack", "export"])) as { deployment: { resources: { type: string; inputs?: unknown }[] } };
  return state.deployment.resources.filter((r) => r.type === "command:remote:Command").map((r) => JSON.stringify(r.inputs ?? {}).length);
}

/**
 * The engine's floor for a program of this shape: as many command steps as the dev stack has, each
 * with a script of the same size, run once on pg2 by an `up`, and nothing read at plan time. A
 * no-change preview of it is what the engine and the command provider cost, without the program.
 */
function floorProject(sizes: number[]): { dir: string; env: NodeJS.ProcessEnv; steps: number } {
  const project = emptyProject();
  fs.writeFileSync(path.join(project.dir, "sizes.json"), JSON.stringify(sizes));
  fs.writeFileSync(
    path.join(project.dir, "index.ts"),
    `import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
const sizes: number[] = JSON.parse(fs.readFileSync("sizes.json", "utf8"));
const connection = { host: "${host("pg2").address}", user: "deploy", privateKey: pulumi.secret(fs.readFileSync("${path.join(SANDBOX_DIR, "id_ed25519")}", "utf8")) };
sizes.forEach((size, i) => new command.remote.Command(\`step-\${i}\`, { connection, create: "#".repeat(Math.max(0, size - 400)) + "\\ntrue\\n" }));
`,
  );
  execFileSync("pulumi", ["up", "--yes", "--non-interactive", "--skip-preview"], { cwd: project.dir, env: project.env, stdio: "ignore" });
  return { ...project, steps: sizes.length };
}

// A scale that the disk cannot hold stops the bench before it writes anything: pgbench takes about
// 16 MB a scale unit, and every host of the sandbox shares this machine's disk.
const MB_PER_SCALE = 16;
// what grows with the scale (pgbench -i, copies, restores) is given hours, not ssh()'s two minutes
const HEAVY = 3 * 3600_000;
function ensureDisk(what: string, scale: number, copies: number): void {
  const s = fs.statfsSync("/");
  const free = (s.bavail * s.bsize) / 1e9;
  const needed = (scale * MB_PER_SCALE * copies) / 1000;
  if (free < needed) {
    process.stderr.write(
      `bench: ${what} at scale ${scale} needs about ${needed.toFixed(0)} GB free on / (${copies} copies of ${((scale * MB_PER_SCALE) / 1000).toFixed(1)} GB), ${free.toFixed(0)} GB are\n`,
    );
    process.exit(1);
  }
}

// The disk sampler's log: free bytes every second, and the bench's phase names between them.
const DISK_LOG = path.join(os.tmpdir(), `bench-disk-${process.pid}`);
const phase = (name: string) => fs.appendFileSync(DISK_LOG, `phase ${name}\n`);

/**
 * Runs `fn` (which blocks the event loop) while a shell loop beside it samples the free space on /
 * every second: how many GB more than at the start it used at its peak, and in which phase.
 */
function peakDiskUse(fn: () => void): { gb: number; during: string } {
  const freeNow = () => (fs.statfsSync("/").bavail * fs.statfsSync("/").bsize) / 1e9;
  const start = freeNow();
  fs.writeFileSync(DISK_LOG, "");
  const sampler = spawn("bash", ["-c", `while :; do df --output=avail -B1 / | tail -n 1 >> ${DISK_LOG}; sleep 1; done`], {
    stdio: "ignore",
  });
  try {
    fn();
  } finally {
    sampler.kill("SIGKILL");
  }
  let least = freeNow();
  let during = "the end";
  let current = "the start";
  for (const line of fs.readFileSync(DISK_LOG, "utf8").split("\n").filter(Boolean)) {
    if (line.startsWith("phase ")) current = line.slice("phase ".length);
    else if (Number(line) / 1e9 < least) [least, during] = [Number(line) / 1e9, current];
  }
  fs.rmSync(DISK_LOG, { force: true });
  return { gb: start - least, during };
}

// A standby built by the engine against a raw pg_basebackup of the same leader.
const scales = (process.env.BENCH_SCALES ?? "50 200").split(/\s+/).filter(Boolean).map(Number);
// the leader, two standbys, the raw copy, pg3's old directory until it is removed, the backups,
// and the WAL each member holds until its next checkpoint: the bench prints the most it held at
// once (6.4 copies at scale 200), and asks for 7
if (parts.has("standby")) for (const scale of scales) ensureDisk("the standby and backup benchmarks", scale, 7);
const standbyRows: string[][] = [];
const backupRows: string[][] = [];
const deltaRows: string[][] = [];
let token = 0;
const diskRows: string[][] = [];
for (const scale of parts.has("standby") ? scales : []) {
  const peak = peakDiskUse(() => standbyAndBackups(scale));
  diskRows.push([String(scale), peak.gb.toFixed(1), (peak.gb / ((scale * MB_PER_SCALE) / 1000)).toFixed(1), peak.during]);
  process.stderr.write(`  scale ${scale}: the disk held up to ${peak.gb.toFixed(1)} GB more than at the start (${peak.during})\n`);
}
psql("pg1", "drop database if exists bench");

function standbyAndBackups(scale: number): void {
  process.stderr.write(`bench: pgbench -i -s ${scale} on the leader\n`);
  phase("pgbench -i");
  psql("pg1", "drop database if exists bench");
  psql("pg1", "create database bench");
  sshOk("pg1", `cd / && sudo -n -u postgres /usr/lib/postgresql/15/bin/pgbench -i -q -s ${scale} bench >/dev/null 2>&1`, undefined, HEAVY);
  psql("pg1", "checkpoint");
  const size = psql("pg1", "select pg_size_pretty(sum(pg_database_size(datname))) from pg_database");
  // every host writes to this machine's one disk: each copy starts with nothing left to write back
  execFileSync("sync");
  phase("the raw pg_basebackup");
  const raw = time(() =>
    sshOk(
      "pg3",
      `cd / && sudo -n rm -rf /var/tmp/bench-basebackup && sudo -n -u postgres env PGPASSFILE=/var/lib/postgresql/.pg-replication.pgpass /usr/lib/postgresql/15/bin/pg_basebackup -d "host=10.77.0.11 user=replicator dbname=replication" -D /var/tmp/bench-basebackup -X stream -c fast && sudo -n rm -rf /var/tmp/bench-basebackup`,
      undefined,
      HEAVY,
    ),
  );
  dev.editStackFile((t) =>
    t.replace(/(address: 10\.77\.0\.13)(\n\s+rebuild: \S+)?/, `$1\n          rebuild: bench-${Date.now()}-${token++}`),
  );
  execFileSync("sync");
  phase("pg3 rebuilt by copy");
  const viaUp = time(() => dev.ok(["up", "--yes", "--skip-preview"]));
  standbyRows.push([String(scale), size, raw.toFixed(2), viaUp.toFixed(2), (viaUp - raw).toFixed(2), (viaUp / raw).toFixed(2)]);
  process.stderr.write(`  scale ${scale} (${size}): raw pg_basebackup ${raw.toFixed(2)} s, pulumi up to streaming ${viaUp.toFixed(2)} s\n`);
  backupBench(scale, size, raw);
  deltaBench(scale, raw, viaUp);
}

// Backups at the same scale: a full backup (make backup) against the raw pg_basebackup above; one
// small table back (make restore-table) against a raw restore of the whole backup on the
// repository host (files only, no WAL replayed).
function backupBench(scale: number, size: string, rawBasebackup: number): void {
  const tool = (script: string, env: Record<string, string>) =>
    execFileSync("node", ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", script), "dev"], {
      cwd: dev.project.dir,
      env: { ...dev.project.env, ...env },
      stdio: ["ignore", "ignore", "inherit"],
    });
  phase("the full backup");
  const full = time(() => tool("backup.ts", { TYPE: "full" }));
  const at = psql("pg1", "select to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS') || '+00'");
  phase("one table back");
  const oneTable = time(() => tool("restoreTable.ts", { DB: "bench", TABLE: "public.pgbench_branches", AT: at }));
  psql("pg1", "select format('drop schema %I cascade', nspname) from pg_namespace where nspname like 'restored\\_%' \\gexec", "bench");
  phase("the whole restore");
  const whole = time(() =>
    sshOk(
      "backup",
      "cd / && sudo -n rm -rf /var/tmp/bench-restore && sudo -n -u postgres pgbackrest --config=/dev/null --repo1-path=/var/lib/pgbackrest --stanza=main --pg1-path=/var/tmp/bench-restore --log-level-console=warn restore && sudo -n rm -rf /var/tmp/bench-restore",
      undefined,
      HEAVY,
    ),
  );
  backupRows.push([
    String(scale),
    size,
    full.toFixed(2),
    rawBasebackup.toFixed(2),
    (full / rawBasebackup).toFixed(2),
    oneTable.toFixed(2),
    whole.toFixed(2),
  ]);
  process.stderr.write(
    `  scale ${scale}: full backup ${full.toFixed(2)} s, one table back ${oneTable.toFixed(2)} s, whole restore ${whole.toFixed(2)} s\n`,
  );
}

// pg3 rebuilt again, now with backup.standbyRebuild: delta, after pgbench wrote for 10 s since the
// full backup: pgbackrest restore --delta over its own files, then the archived WAL, against the
// raw pg_basebackup and the copying rebuild above. Goal: at most half the raw copy.
function deltaBench(scale: number, rawBasebackup: number, copyRebuild: number): void {
  sshOk("pg1", "cd / && sudo -n -u postgres /usr/lib/postgresql/15/bin/pgbench -n -T 10 bench >/dev/null 2>&1");
  dev.editCluster((c) => {
    (c.backup as Record<string, unknown>).standbyRebuild = "delta";
    c.hosts.find((h) => h.name === "pg3")!.rebuild = `bench-delta-${Date.now()}`;
  });
  let out = "";
  phase("pg3 rebuilt by delta");
  const delta = time(() => (out = dev.ok(["up", "--yes", "--skip-preview"])));
  dev.editCluster((c) => delete (c.backup as Record<string, unknown>).standbyRebuild);
  const how = /pg3: standby of pg1 [^\n]*rebuilt from the backups/.test(out) ? "" : " (copied: no delta)";
  deltaRows.push([
    String(scale) + how,
    rawBasebackup.toFixed(2),
    copyRebuild.toFixed(2),
    delta.toFixed(2),
    (delta / rawBasebackup).toFixed(2),
  ]);
  process.stderr.write(`  scale ${scale}: delta rebuild of pg3 ${delta.toFixed(2)} s${how}\n`);
}

// The migration at pgbench scale 50: initial sync by `pulumi up` (phase sync) against pg_dump -Fd
// -j2 | pg_restore -j2 of the same database in the same run; then the cutover's write pause under
// a pgbench write load on the old server, once with the checksums in the pause (the default) and
// once with them after the switch.
// BENCH_MIGRATION_SCALE: one scale or several ("50 200"), each with both modes
const migrationScales = (process.env.BENCH_MIGRATION_SCALE ?? "50").split(/\s+/).filter(Boolean).map(Number);
const migrationRows: string[][] = [];
// the old server's migration role (sandbox/old-server.sh's default)
const SOURCE_PASSWORD = "m1grat0r-source-pw";
const migrationRuns = migrationScales.flatMap((scale) => ["in-pause", "after-switch"].map((checksums) => ({ scale, checksums })));
async function migrationBench(): Promise<void> {
  // the old server, the target's three members, and the WAL of the copy on each member until its
  // next checkpoint; the dump and its restore come and go before the sync
  for (const scale of migrationScales) ensureDisk("the migration benchmark", scale, 5);
  for (const { scale: MIGRATION_SCALE, checksums } of migrationRuns) {
    const appPassword = "app-pw-2026";
    process.stderr.write(`bench: the old server at pgbench scale ${MIGRATION_SCALE} (checksums ${checksums})\n`);
    psql("pg1", "drop database if exists appdb");
    psql("pg1", "drop database if exists bench_restore");
    execFileSync("bash", [path.join(ROOT, "sandbox/old-server.sh"), "--scale", String(MIGRATION_SCALE)], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const size = psql("old", "select pg_size_pretty(pg_database_size('appdb'))");
    dev.project.setConfig("dev", "pg-replication:sourcePassword", SOURCE_PASSWORD, true);
    dev.editConfig((c) => {
      c["pg-replication:migration"] = {
        source: { address: "10.77.0.10", database: "appdb", user: "migrator" },
        target: { cluster: "main" },
        phase: "sync",
        // the verification in the pause is the mode without a way back; after the switch needs one
        wayBack: checksums === "after-switch",
        checksums,
      };
    });
    // the dump and its restore first, and their copy dropped before the sync: the disk holds one
    // copy of the database on each target member at a time
    let dumpRestore = 0;
    if (checksums === "in-pause") {
      // the bench's own passfile: the migration's is written by the sync, which comes after
      sshOk(
        "pg1",
        "cd / && sudo -n -u postgres sh -c 'umask 077 && cat > /var/tmp/bench-source.pgpass'",
        `10.77.0.10:5432:appdb:migrator:${SOURCE_PASSWORD}\n`,
      );
      execFileSync("sync");
      dumpRestore = time(() =>
        sshOk(
          "pg1",
          `cd / && sudo -n rm -rf /var/tmp/bench-dump && sudo -n -u postgres psql -X -q -c 'create database bench_restore' &&
         sudo -n -u postgres /usr/lib/postgresql/15/bin/pg_dump -Fd -j2 -d "host=10.77.0.10 dbname=appdb user=migrator passfile=/var/tmp/bench-source.pgpass" -f /var/tmp/bench-dump &&
         sudo -n -u postgres /usr/lib/postgresql/15/bin/pg_restore -j2 --no-owner -d bench_restore /var/tmp/bench-dump && sudo -n rm -rf /var/tmp/bench-dump /var/tmp/bench-source.pgpass`,
          undefined,
          HEAVY,
        ),
      );
      psql("pg1", "drop database bench_restore");
      psql("pg1", "checkpoint");
    }
    execFileSync("sync");
    let syncOutput = "";
    const sync = time(() => (syncOutput = dev.ok(["up", "--yes", "--skip-preview"])));
    if (checksums === "in-pause") {
      migrationRows.push([`initial sync (pulumi up, phase sync), scale ${MIGRATION_SCALE}, ${size}`, sync.toFixed(2)]);
      // what the subscription step says it took: the rest of the up is the engine and the steps around the copy
      const copy = /tables copied at the slot's snapshot, [^\n]* in ([0-9.]+) s/.exec(syncOutput)?.[1];
      const indexes = /indexes and constraints built after the data, in ([0-9.]+) s/.exec(syncOutput)?.[1];
      if (copy) migrationRows.push(["  of which the rows copied at the snapshot", Number(copy).toFixed(2)]);
      if (indexes) migrationRows.push(["  of which the indexes and constraints built after them", Number(indexes).toFixed(2)]);
      migrationRows.push([`pg_dump -Fd -j2 | pg_restore -j2 of the same database`, dumpRestore.toFixed(2)]);
      migrationRows.push(["ratio sync / dump+restore", (sync / dumpRestore).toFixed(2)]);
      if (copy && indexes)
        migrationRows.push(["ratio copy and indexes alone / dump+restore", ((Number(copy) + Number(indexes)) / dumpRestore).toFixed(2)]);
    }

    // the sync's writes reach the disk first: the pause is not measured against their writeback
    execFileSync("sync");
    process.stderr.write("bench: cutover under pgbench -c 2 on the old server\n");
    const load = spawn("/usr/lib/postgresql/15/bin/pgbench", ["-n", "-c", "2", "-T", "120", "-h", "10.77.0.10", "-U", "app", "appdb"], {
      env: { ...process.env, PGPASSWORD: appPassword, PGSSLMODE: "require" },
      stdio: "ignore",
    });
    execFileSync("sleep", ["3"]);
    dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).phase = "cutover"));
    // the application's own view: one write every 10 ms, on the old server until it turns read-only, then on pg1
    const app = new OrderWriter(
      appPassword,
      "insert into pgbench_history (tid, bid, aid, delta, mtime) values (1, 1, 1, 1, now()) returning 0 as id",
    );
    app.start();
    await sleep(2000);
    const started = process.hrtime.bigint();
    await dev.upAsync();
    const cut = Number(process.hrtime.bigint() - started) / 1e9;
    await sleep(2000);
    await app.stop();
    load.kill("SIGTERM");
    const report = (
      dev.outputs().migration as {
        cutoverReport: {
          writePauseSeconds: number;
          rowsVerified: number;
          mismatches: string[];
          pauseParts?: Record<string, number>;
          checksumSeconds?: number;
        };
      }
    ).cutoverReport;
    migrationRows.push([
      `cutover write pause under pgbench write load, scale ${MIGRATION_SCALE}, checksums ${checksums}`,
      report.writePauseSeconds.toFixed(3),
    ]);
    migrationRows.push([
      `  the application's longest wait between two writes (${app.onSource.length} on the old server, ${app.onTarget.length} on pg1)`,
      app.longestGap().toFixed(3),
    ]);
    for (const [part, seconds] of Object.entries(report.pauseParts ?? {})) migrationRows.push([`  of which ${part}`, seconds.toFixed(3)]);
    if (report.checksumSeconds !== undefined)
      migrationRows.push(["  counts and checksums after the switch (no write pause)", report.checksumSeconds.toFixed(3)]);
    migrationRows.push([
      `pulumi up of the cutover (verifies ${report.rowsVerified} rows, ${report.mismatches.length} mismatches)`,
      cut.toFixed(2),
    ]);
    if (checksums === "after-switch") {
      // the way back is let go before the migration leaves the config
      dev.editConfig((c) => ((c["pg-replication:migration"] as Record<string, unknown>).phase = "complete"));
      dev.ok(["up", "--yes", "--skip-preview"]);
    }
    dev.editConfig((c) => delete c["pg-replication:migration"]);
    dev.ok(["up", "--yes", "--skip-preview"]);
  }
}

/** The preview's goal is a ratio: each no-change preview against the empty program's, from the medians. */
function previewRatios(): void {
  const median = (prefix: string) => {
    const t = rows.find(([l]) => l.startsWith(prefix))?.[1];
    return t && [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)];
  };
  const empty = median("pulumi preview of an empty program");
  const dev = median("pulumi preview, no changes (dev stack)");
  const floor = median("pulumi preview of the dev stack's");
  if (!empty || !dev) return;
  console.log(`\nno-change preview against the empty program (goal: at most 1.5): dev ${(dev / empty).toFixed(2)}`);
  if (floor)
    console.log(`  the command steps alone ${(floor / empty).toFixed(2)}; dev against the command steps alone ${(dev / floor).toFixed(2)}`);
}

function printAll(): void {
  if (rows.length > 0) table();
  previewRatios();
  if (profileLines.length > 0) {
    console.log("\nwhere a no-change preview of the dev stack spends its time (PGR_PROFILE=1, seconds since node started):");
    for (const l of profileLines) console.log(`  ${l}`);
  }
  printTable(
    "new standby (pg3 rebuilt from pg1): `pulumi up` until streaming vs a raw pg_basebackup, same run",
    ["scale", "cluster size", "raw s", "pulumi up s", "overhead s", "ratio"],
    standbyRows,
  );
  printTable(
    "backups (pgBackRest, lz4, process-max 2) against the raw pg_basebackup above, same run",
    ["scale", "cluster size", "full backup s", "pg_basebackup s", "ratio", "one table back s", "whole restore s"],
    backupRows,
  );
  printTable(
    "standby rebuilt from the backups (backup.standbyRebuild: delta) against copying the leader, same run",
    ["scale", "raw pg_basebackup s", "rebuild by copy (pulumi up) s", "rebuild by delta (pulumi up) s", "delta / raw"],
    deltaRows,
  );
  printTable(
    "disk: the most the standby and backup benchmarks held at once beyond the start, against one copy of pgbench's data (16 MB a scale unit)",
    ["scale", "peak GB", "copies", "during"],
    diskRows,
  );
  if (migrationRows.length > 0) {
    console.log("\nmigration (old server to the dev stack's cluster), same run");
    const mw = Math.max(...migrationRows.map(([l]) => l.length));
    for (const [label, v] of migrationRows) console.log(`${label.padEnd(mw)}  ${v.padStart(8)}`);
  }
}

function printTable(title: string, head: string[], body: string[][]): void {
  if (body.length === 0) return;
  console.log(`\n${title}`);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  for (const r of all) console.log(r.map((c, i) => c.padStart(widths[i])).join("  "));
}

// A planned switchover pg1 → pg2 and back under an application on libpq (psql with the output's
// read-write string, one insert per ~50 ms on a connection of its own): the longest gap between
// two acknowledged writes, beside the time `pulumi up` took. Goal: a gap of at most 5 s.
async function switchoverGaps(): Promise<void> {
  const { conninfo, password } = prepareLibpqWriter(dev);
  const lines: string[][] = [["switchover", "longest write gap s", "pulumi up s", "acknowledged", "lost"]];
  try {
    for (const [round, to] of ["pg2", "pg1", "pg2", "pg1"].entries()) {
      const writer = new LibpqWriter(conninfo, password, 50, 1 + round * 1_000_000);
      writer.start();
      await new Promise((r) => setTimeout(r, 1000));
      dev.editCluster((c) => (c.leader = to));
      const started = process.hrtime.bigint();
      await dev.upAsync();
      const up = Number(process.hrtime.bigint() - started) / 1e9;
      await new Promise((r) => setTimeout(r, 1000));
      const acked = await writer.stop();
      const line = [`to ${to}`, writer.longestGap().toFixed(2), up.toFixed(2), String(acked.length), String(writer.lostOn(to).length)];
      lines.push(line);
      process.stderr.write(`  switchover to ${to}: longest write gap ${line[1]} s, pulumi up ${line[2]} s\n`);
    }
  } finally {
    dev.editCluster((c) => (c.leader = "pg1"));
    removeLibpqWriter(dev);
  }
  console.log("\nplanned switchover under a libpq writer (psql, the read-write string of applicationConnections), same run");
  const ww = lines[0].map((_, i) => Math.max(...lines.map((r) => r[i].length)));
  for (const r of lines) console.log(r.map((c, i) => c.padStart(ww[i])).join("  "));
}

let printed = false;
(async () => {
  if (parts.has("migration")) await migrationBench();
  printed = true;
  printAll();
  if (parts.has("switchover")) await switchoverGaps();
})().catch((e) => {
  // what was measured before the failure is still printed
  if (!printed) printAll();
  process.stderr.write(`bench: failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
