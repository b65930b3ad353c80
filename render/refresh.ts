// What `make refresh` runs on the refreshed cluster's hosts: on its leader, FROM's backup restored
// in place (delta), its roles given this stack's passwords, masked, then opened; on each standby,
// the stop before and the clearing after (the next `up` rebuilds it from the masked leader).
import { MaskingTable } from "../config";
import { ADMIN_ROLE, PREVIEW_ROLE, REPLICATION_ROLE } from "../names";
import { HBA_PATH } from "../postgres15";
import { hostScript } from "./hostScript";
import { renderMaskingSql } from "./masking";
import { sqlIdent, sqlLiteral } from "./quote";
import { fileFunction, sh } from "./sh";

export interface RefreshSource {
  stanza: string;
  /** Absent: the cluster's own stanza, through the member's own pgBackRest configuration (a restore). */
  reader?: ReaderAccess;
}

export interface ReaderAccess {
  /** The repository host as the leader's pgBackRest reaches it, with the read-only account. */
  address: string;
  sshPort: number;
  account: string;
  path: string;
  /** The repository host's known_hosts line(s), from this stack's known_hosts. */
  known: string;
  /** The read-only account's private key (its text: a secret, never in a step's state). */
  privateKey: string;
}

export interface RefreshTarget {
  /** pgBackRest's --type: the latest (`default`), a time, or just before a transaction or an LSN. */
  type: "default" | "time" | "xid" | "lsn";
  value?: string;
}

/** This stack's roles get this stack's passwords (verifiers); every other login role loses its login. */
export interface RefreshRoles {
  admin: string;
  replication: string;
  preview?: string;
  /** Another cluster's data: its other roles lose their login (FROM's passwords stop working). */
  othersLoseLogin: boolean;
}

export function renderRefreshRolesSql(v: RefreshRoles): string {
  const role = (name: string, attrs: string, verifier: string) => [
    `SELECT format('CREATE ROLE %I', ${sqlLiteral(name)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlLiteral(name)}) \\gexec`,
    `ALTER ROLE ${sqlIdent(name)} WITH ${attrs} PASSWORD ${sqlLiteral(verifier)};`,
  ];
  const keep = [ADMIN_ROLE, REPLICATION_ROLE, ...(v.preview ? [PREVIEW_ROLE] : [])];
  return [
    ...role(ADMIN_ROLE, "LOGIN SUPERUSER", v.admin),
    ...role(REPLICATION_ROLE, "LOGIN REPLICATION NOSUPERUSER", v.replication),
    ...(v.preview ? [...role(PREVIEW_ROLE, "LOGIN NOSUPERUSER", v.preview), `GRANT pg_monitor TO ${sqlIdent(PREVIEW_ROLE)};`] : []),
    // FROM's passwords stop working here: its application roles keep their rights but not their login
    ...(v.othersLoseLogin
      ? [
          `SELECT format('ALTER ROLE %I NOLOGIN PASSWORD NULL', rolname) FROM pg_roles WHERE rolcanlogin AND rolname <> 'postgres' AND rolname NOT IN (${keep.map(sqlLiteral).join(", ")}) \\gexec`,
        ]
      : []),
    "",
  ].join("\n");
}

export interface LeaderRefresh {
  host: string;
  source: RefreshSource;
  target: RefreshTarget;
  /** pg_hba.conf while the refresh runs: the admin's lines and the local postgres account. */
  adminHba: string;
  roles: RefreshRoles;
  masking: MaskingTable[];
  /** The key of the deterministic fakes (a secret). */
  maskingKey: string;
}

export function renderRefreshLeaderScript(r: LeaderRefresh): string {
  const databases = [...new Set(r.masking.map((t) => t.database))];
  const cases = databases.map(
    (db) =>
      `    ${sh`${db}`}) cat <<'PGR_MASKING'\n${renderMaskingSql(
        r.masking.filter((t) => t.database === db),
        r.maskingKey,
      )}PGR_MASKING\n    ;;`,
  );
  const tables = r.masking.map((t) => `${t.database}:${t.schema}.${t.table}:${Object.keys(t.columns).join(",")}`);
  const reader = r.source.reader;
  const verb = reader ? "refresh" : "restore";
  return hostScript("refresh", r.host, `${verb} from stanza ${r.source.stanza}`, [
    sh`hba=${HBA_PATH}`,
    sh`stanza=${r.source.stanza}`,
    sh`source_mode=${reader ? "reader" : "own"}`,
    sh`verb=${verb}`,
    sh`repo_address=${reader?.address ?? ""}`,
    sh`repo_port=${String(reader?.sshPort ?? "")}`,
    sh`repo_account=${reader?.account ?? ""}`,
    sh`repo_path=${reader?.path ?? ""}`,
    sh`repo_known=${reader?.known ?? ""}`,
    sh`target_type=${r.target.type}`,
    sh`target_time=${r.target.value ?? ""}`,
    sh`masked_databases=(${databases})`,
    sh`masked_tables=(${tables})`,
    fileFunction("reader_key", reader?.privateKey ?? ""),
    fileFunction("admin_hba", r.adminHba),
    fileFunction("roles_sql", renderRefreshRolesSql(r.roles)),
    ["masking_sql() {", "  case $1 in", ...cases, "  esac", "}"].join("\n"),
  ]);
}

/** A standby of the refreshed cluster: `stop` before the leader's restore, `clear` once the leader is masked. */
export function renderRefreshStandbyScript(host: string, action: "stop" | "clear"): string {
  return hostScript("refresh-standby", host, `refresh: ${action} the standby`, [sh`action=${action}`]);
}
