// make restore-table STACK=dev DB=appdb TABLE=public.orders AT='2026-12-02 10:15:00+00' [WHERE="id = 42"]
// (or XID=… / LSN=… instead of AT): that table, or the rows matching WHERE, as it was at that
// moment, beside the live table on the leader under a new schema restored_<timestamp>. Inputs
// are checked before anything runs; nothing is created on the leader unless the scratch
// restore succeeded; the scratch instance on the repository host always goes.
import { readBackupState, sshRun } from "../observe/backups";
import { IDENTIFIER, primaryKeySql, renderCompareSql, renderMergeSql, renderScratchRestoreScript } from "../render/restore";
import { shellQuote, sqlLiteral } from "../render/quote";
import { psqlAsPostgres, sqlAsPostgres } from "../render/sshCommands";
import { accessSpec, archiveNow, leaderHost, readBackupAccess, repositoryHost } from "./backupAccess";
import { parseRestoreTarget } from "./restoreTarget";

const env = (k: string) => process.env[k]?.trim() || undefined;

async function main() {
  const stack = process.argv[2] ?? "dev";
  const database = env("DB");
  const qualified = env("TABLE");
  if (!database) throw new Error("DB is required: the database that held the table");
  if (!qualified) throw new Error("TABLE is required: schema.table");
  const [schema, table, extra] = qualified.includes(".") ? qualified.split(".") : ["public", qualified];
  if (extra !== undefined || !IDENTIFIER.test(schema) || !IDENTIFIER.test(table))
    throw new Error(`TABLE must be schema.table of plain identifiers, got ${JSON.stringify(qualified)}`);
  const target = parseRestoreTarget({ at: env("AT"), xid: env("XID"), lsn: env("LSN") });
  const where = env("WHERE");
  if (where?.includes(";")) throw new Error("WHERE must be one condition, without ';'");

  const repo = env("REPO") ? Number(env("REPO")) : undefined;
  if (repo !== undefined && ![1, 2].includes(repo)) throw new Error(`REPO must be 1 (the repository host) or 2 (S3), got ${env("REPO")}`);
  const access = readBackupAccess(stack, env("CLUSTER"));
  const spec = accessSpec(access);
  const leader = leaderHost(access);

  const dbs = await sshRun(
    spec,
    leader,
    sqlAsPostgres("postgres", `select count(*) from pg_database where datname = ${sqlLiteral(database)}`),
  );
  if (dbs.code !== 0) throw new Error(`the leader ${leader.name} could not be read: ${dbs.err.trim().split("\n").pop()}`);
  if (dbs.out.trim() !== "1") throw new Error(`there is no database ${database} on ${leader.name}`);
  if (target.type === "time") {
    const state = await readBackupState(spec, leader);
    if (!state.earliest) throw new Error(`stanza ${access.stanza} has no backup yet (${state.status}): run make backup first`);
    const at = target.ms!;
    const latest = state.latest ? Date.parse(state.latest) : Date.now();
    if (at < Date.parse(state.earliest) || at > Math.max(latest, Date.now()))
      throw new Error(`AT ${target.value} is outside the recovery window: from ${state.earliest} to ${state.latest ?? "now"}`);
  }

  await archiveNow(spec, leader);

  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  const restoredSchema = `restored_${stamp}`;
  const started = Date.now();
  const script = renderScratchRestoreScript({
    stanza: access.stanza,
    backupUser: access.repository.user,
    repoPath: access.repository.path,
    database,
    schema,
    table,
    targetType: target.type,
    target: target.value,
    where,
    restoredSchema,
    repo,
  });
  console.error(`restore-table: recovering ${database} at ${target.value} into a scratch instance on ${access.repository.name}`);
  const dump = await sshRun(spec, repositoryHost(access), `sudo -n bash -c ${shellQuote(script)}`, 6 * 3600_000);
  if (dump.code !== 0)
    throw new Error(
      dump.err
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("restore-table:"))
        .pop()
        ?.replace(/^restore-table: /, "") ||
        dump.err.trim().split("\n").pop() ||
        `exit ${dump.code}`,
    );
  const load = await sshRun(
    spec,
    leader,
    `${psqlAsPostgres(database, "-X -q -v ON_ERROR_STOP=1 --single-transaction")} >/dev/null`,
    6 * 3600_000,
    dump.out,
  );
  if (load.code !== 0)
    throw new Error(`loading the restored table on ${leader.name} failed (nothing was kept): ${load.err.trim().split("\n").pop()}`);

  const key = (await sshRun(spec, leader, sqlAsPostgres(database, primaryKeySql(restoredSchema, table)))).out
    .trim()
    .split("\n")
    .filter(Boolean);
  const liveExists =
    (
      await sshRun(spec, leader, sqlAsPostgres(database, `select to_regclass(${sqlLiteral(`"${schema}"."${table}"`)}) is not null`))
    ).out.trim() === "t";
  const counts = await sshRun(spec, leader, sqlAsPostgres(database, renderCompareSql(schema, table, restoredSchema, key, liveExists)));
  if (counts.code !== 0) throw new Error(`comparing with the live table failed: ${counts.err.trim().split("\n").pop()}`);
  const [rows, onlyBackup, onlyLive, changed] = counts.out.trim().split("|");
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `restored ${rows} rows of ${schema}.${table} as of ${target.value} into ${restoredSchema}.${table} on ${leader.name} (database ${database}) in ${seconds} s`,
  );
  if (!liveExists)
    console.log(
      `the live table ${schema}.${table} does not exist: to put it back, ALTER TABLE ${restoredSchema}.${table} SET SCHEMA ${schema};`,
    );
  else if (key.length === 0) console.log("the table has no primary key: compare by hand");
  else {
    console.log(`by primary key (${key.join(", ")}): ${onlyBackup} only in the backup, ${onlyLive} only live, ${changed} changed`);
    console.log(`to put back the rows only in the backup:\n  ${renderMergeSql(schema, table, restoredSchema, key)}`);
  }
  console.log(`when done: DROP SCHEMA ${restoredSchema} CASCADE;`);
}

main().catch((e) => {
  console.error(`restore-table: ${(e as Error).message}`);
  process.exit(1);
});
