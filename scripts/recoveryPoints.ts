// make recovery-points STACK=dev DB=appdb [SINCE='2026-12-02 09:00:00+00']: the commits in the
// archived WAL that deleted rows from, truncated or dropped tables of DB, with their time,
// transaction id and LSN, to restore to just before one (make restore-table … XID=…).
import { sshRun } from "../observe/backups";
import { describePoint, parsePoints } from "../observe/recoveryPoints";
import { renderRecoveryPointsScript } from "../render/restore";
import { shellQuote, sqlLiteral } from "../render/quote";
import { sqlAsPostgres } from "../render/sshCommands";
import { accessSpec, archiveNow, leaderHost, readBackupAccess, repositoryHost } from "./backupAccess";
import { parseRestoreTarget } from "./restoreTarget";

async function main() {
  const stack = process.argv[2] ?? "dev";
  const database = process.env.DB?.trim();
  if (!database) throw new Error("DB is required: the database to look into");
  const since = process.env.SINCE?.trim()
    ? parseRestoreTarget({ at: process.env.SINCE.trim() }).value
    : new Date(Date.now() - 24 * 3600_000).toISOString().replace("T", " ").replace("Z", "+00");
  const access = readBackupAccess(stack, process.env.CLUSTER?.trim() || undefined);
  const spec = accessSpec(access);
  const leader = leaderHost(access);
  const oid = await sshRun(spec, leader, sqlAsPostgres("postgres", `select oid from pg_database where datname = ${sqlLiteral(database)}`));
  if (oid.code !== 0) throw new Error(`the leader ${leader.name} could not be read: ${oid.err.trim().split("\n").pop()}`);
  if (!/^[0-9]+$/.test(oid.out.trim())) throw new Error(`there is no database ${database} on ${leader.name}`);

  await archiveNow(spec, leader);
  const script = renderRecoveryPointsScript({
    stanza: access.stanza,
    backupUser: access.repository.user,
    repoPath: access.repository.path,
    dboid: Number(oid.out.trim()),
    since,
  });
  const run = await sshRun(spec, repositoryHost(access), `sudo -n bash -c ${shellQuote(script)}`, 3600_000);
  if (run.code !== 0) throw new Error(run.err.trim().split("\n").pop() || `exit ${run.code}`);
  const points = parsePoints(run.out);
  const nodes = [...new Set(points.flatMap((p) => [...Object.keys(p.deletes), ...p.dropped, ...p.truncated]))];
  const names = nodes.length
    ? await sshRun(
        spec,
        leader,
        sqlAsPostgres(
          database,
          `select c.relfilenode, c.oid, format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace ` +
            `where c.relfilenode::text = any(${sqlLiteral(`{${nodes.join(",")}}`)}::text[]) or c.oid::text = any(${sqlLiteral(`{${nodes.join(",")}}`)}::text[])`,
        ),
      )
    : { out: "" };
  const byFilenode: Record<string, string> = {};
  const byOid: Record<string, string> = {};
  for (const line of names.out.trim().split("\n").filter(Boolean)) {
    const [node, relOid, name] = line.split("|");
    byFilenode[node] = name;
    byOid[relOid] = name;
  }
  console.log(`commits that deleted, truncated or dropped in ${database} since ${since} (stanza ${access.stanza}):`);
  if (points.length === 0) console.log("  none in the archived WAL");
  for (const p of points) console.log(`  ${p.time}  xid ${p.xid.padEnd(8)} lsn ${p.lsn.padEnd(12)} ${describePoint(p, byFilenode, byOid)}`);
  if (points.length > 0)
    console.log(
      `to bring a table back as it was just before one: make restore-table STACK=${stack} DB=${database} TABLE=schema.table XID=<xid>`,
    );
}

main().catch((e) => {
  console.error(`recovery-points: ${(e as Error).message}`);
  process.exit(1);
});
