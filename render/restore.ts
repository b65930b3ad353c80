// What `make backup`, `make restore-table` and `make recovery-points` run on a host: a header of
// quoted values and a file of host/restore/.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sqlIdent, sqlLiteral } from "./quote";
import { sh } from "./sh";

const file = (name: string) => readFileSync(join(__dirname, "..", "host", "restore", name), "utf8");

export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** `make backup`: the scheduled unit's own command, through systemd when it runs there. */
export function renderBackupNowScript(stanza: string, type: "full" | "diff", repo?: number): string {
  return [sh`stanza=${stanza}`, sh`type=${type}`, sh`repo=${repo === undefined ? "" : String(repo)}`, file("backup-now.sh")].join("\n");
}

export interface ScratchRestore {
  stanza: string;
  backupUser: string;
  repoPath: string;
  database: string;
  schema: string;
  table: string;
  targetType: "time" | "lsn" | "xid";
  target: string;
  where?: string;
  restoredSchema: string;
  /** The repository to restore from (1: the repository host, 2: S3); pgBackRest's choice when absent. */
  repo?: number;
}

export function renderScratchRestoreScript(r: ScratchRestore): string {
  for (const [k, v] of [
    ["schema", r.schema],
    ["table", r.table],
    ["restored schema", r.restoredSchema],
  ])
    if (!IDENTIFIER.test(v)) throw new Error(`${k} must be a plain identifier (letters, digits, _ and $), got ${JSON.stringify(v)}`);
  return [
    sh`stanza=${r.stanza}`,
    sh`backup_user=${r.backupUser}`,
    sh`repo_path=${r.repoPath}`,
    sh`database=${r.database}`,
    sh`schema=${r.schema}`,
    sh`table=${r.table}`,
    sh`target_type=${r.targetType}`,
    sh`target=${r.target}`,
    sh`where=${r.where ?? ""}`,
    sh`restored_schema=${r.restoredSchema}`,
    sh`repo=${r.repo === undefined ? "" : String(r.repo)}`,
    file("scratch.sh"),
  ].join("\n");
}

/** On the leader, after the restored schema arrived: rows back, and how they differ from the live table by primary key. */
export function renderCompareSql(schema: string, table: string, restoredSchema: string, key: string[], liveExists: boolean): string {
  const restored = `${sqlIdent(restoredSchema)}.${sqlIdent(table)}`;
  const live = `${sqlIdent(schema)}.${sqlIdent(table)}`;
  if (!liveExists || key.length === 0) return `select count(*), null, null, null from ${restored}`;
  const on = key.map((k) => `r.${sqlIdent(k)} = l.${sqlIdent(k)}`).join(" and ");
  const rNull = `r.${sqlIdent(key[0])} is null`;
  const lNull = `l.${sqlIdent(key[0])} is null`;
  return [
    "select",
    `  count(*) filter (where not ${rNull}),`,
    `  count(*) filter (where ${lNull}),`,
    `  count(*) filter (where ${rNull}),`,
    `  count(*) filter (where not ${rNull} and not ${lNull} and row_to_json(r)::text is distinct from row_to_json(l)::text)`,
    `from ${restored} r full join ${live} l on ${on}`,
  ].join("\n");
}

/** The SQL that puts back the rows the live table lacks (the changed ones are left to a person). */
export function renderMergeSql(schema: string, table: string, restoredSchema: string, key: string[]): string {
  const restored = `${sqlIdent(restoredSchema)}.${sqlIdent(table)}`;
  const live = `${sqlIdent(schema)}.${sqlIdent(table)}`;
  const on = key.map((k) => `l.${sqlIdent(k)} = r.${sqlIdent(k)}`).join(" and ");
  return `insert into ${live} select r.* from ${restored} r where not exists (select 1 from ${live} l where ${on});`;
}

export const primaryKeySql = (restoredSchema: string, table: string) =>
  `select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) ` +
  `where i.indrelid = to_regclass(${sqlLiteral(`${sqlIdent(restoredSchema)}.${sqlIdent(table)}`)}) and i.indisprimary order by array_position(i.indkey, a.attnum)`;

/** `make recovery-points`: the commits that deleted, truncated or dropped in one database since a moment. */
export function renderRecoveryPointsScript(p: {
  stanza: string;
  backupUser: string;
  repoPath: string;
  dboid: number;
  since: string;
}): string {
  return [
    sh`stanza=${p.stanza}`,
    sh`backup_user=${p.backupUser}`,
    sh`repo_path=${p.repoPath}`,
    sh`dboid=${p.dboid}`,
    sh`since=${p.since}`,
    file("recovery-points.sh"),
  ].join("\n");
}
