// What the program reads from each host at plan time, over the same SSH access the host steps
// use: its memory and CPUs (for tuning) and whether the admin role exists (to repair a drifted
// password). Read-only, bounded in time: a host that cannot be reached fails the preview with its
// name and address, never a hang.
import { spawn } from "node:child_process";
import { ClusterSpec, HostSpec } from "../config";
import { DATA_DIR, PG_BIN } from "../postgres15";
import { PASSFILE_PATH } from "../render/roles";
import { shellQuote, sqlLiteral } from "../render/quote";
import { HostFacts } from "../render/tuning";
import { NAME_PREFIX, REPLICATION_ROLE } from "../names";
import { Identity } from "./identity";
import { PERSONAL_COLUMNS_SQL } from "./personalColumns";
import { REBUILD_STAMP, STANDBY_INCLUDE_PATH } from "../render/hostScripts";

export interface HostObservation extends HostFacts {
  /** Which of the roles the program manages exist on the host's server (read as postgres, peer authentication). */
  roles: string[];
  /** Whether PostgreSQL runs, and whether its data directory is a standby's (standby.signal). */
  running: boolean;
  /** Whether this program made it a standby before (its standby include is there). */
  followed?: boolean;
  /** The token its last rebuild ran with ("" when none). */
  rebuilt?: string;
  standby: boolean;
  /** The data directory's system identifier: members of one cluster share it. */
  systemId: string;
  /** The timeline of its latest checkpoint (a standby's may lag behind its leader's, and so may a primary's for a while after its promotion). */
  timeline: number;
  /** A running primary's own timeline, read from its current WAL position (absent: not a running primary, or an older probe). */
  currentTimeline?: number;
  /** The replication slots whose names start with the program's prefix (absent: unread, as by an older probe). */
  slots?: SlotSeen[];
  /** sha256 of the replication passfile, and of the replication role's stored verifier ("" if none). */
  passfileHash: string;
  replicationVerifierHash: string;
  /** On a running primary: its tables' personal-looking columns, as database.schema.table.column (absent: unread). */
  personalColumns?: string[];
}

export interface SlotSeen {
  name: string;
  /** physical or logical. */
  type: string;
  /** Whether a walsender uses the slot now. */
  active: boolean;
  /** Where the slot keeps WAL from ("" when it keeps none). */
  restartLsn: string;
}

/** The probe's slots line: `name:type:active:restart_lsn`, `;` between slots (names are plain SQL words). */
export function parseSlots(line: string | undefined): SlotSeen[] | undefined {
  if (line === undefined) return undefined;
  return line
    .split(";")
    .filter(Boolean)
    .map((s) => {
      const [name, type, active, restartLsn] = s.split(":");
      return { name, type, active: active === "true", restartLsn: restartLsn ?? "" };
    });
}

export type HostObserver = (
  cluster: ClusterSpec,
  host: HostSpec,
  roles: string[],
  identity?: Identity,
  timeoutMs?: number,
) => Promise<HostObservation>;

export class HostUnreachable extends Error {
  constructor(cluster: string, host: HostSpec, why: string) {
    super(`cluster ${cluster}: host ${host.name} (${host.address}, ssh port ${host.sshPort}) cannot be reached: ${why}`);
    this.name = "HostUnreachable";
  }
}

const TIMEOUT_MS = 20_000;
/** A host marked down is read for this long at most: not answering is what is expected of it. */
export const DOWN_TIMEOUT_MS = 8_000;

/** Who logs in: the preview identity's user and key, or the deploy user with its key file or the SSH agent's keys. */
function login(cluster: ClusterSpec, identity: Identity): string[] {
  if (identity.kind === "preview") {
    return ["-i", identity.sshKeyFile, "-o", "IdentitiesOnly=yes", "-l", cluster.ssh.preview?.user ?? ""];
  }
  const key = cluster.ssh.privateKeyPath ? ["-i", cluster.ssh.privateKeyPath, "-o", "IdentitiesOnly=yes"] : [];
  return [...key, "-l", cluster.ssh.user];
}

export function sshArgs(cluster: ClusterSpec, host: HostSpec, identity: Identity = { kind: "deploy" }): string[] {
  const trust = cluster.ssh.knownHostsPath
    ? ["-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${cluster.ssh.knownHostsPath}`]
    : ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
  return [
    ...login(cluster, identity),
    ...["-p", String(host.sshPort)],
    ...["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"],
    ...["-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=2", "-F", "/dev/null"],
    ...trust,
    "--",
    host.address,
  ];
}

/** sha256 of nothing: what the probe reports for a verifier it cannot read (the server down). */
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * The probe script: fixed text but for the role names, quoted for SQL and then for the shell.
 * One sudo to root, one psql for every SQL read: each sudo and each psql costs a tenth of a
 * second, and a preview waits for the slowest host. `personalColumns` adds, on a running primary,
 * its tables' personal-looking columns (a cluster a refresh fills).
 */
export function probeScript(roles: string[], options: { personalColumns?: boolean } = {}): string {
  // a running primary's timeline is its current WAL file's first 8 hex digits: its latest checkpoint may predate a promotion
  const sql = [
    `select 'roles=' || coalesce((select string_agg(rolname, ',') from pg_roles where rolname in (${roles.map(sqlLiteral).join(", ")})), '')`,
    `select 'verifier=' || encode(sha256(convert_to(coalesce((select rolpassword from pg_authid where rolname = ${sqlLiteral(REPLICATION_ROLE)}), ''), 'UTF8')), 'hex')`,
    "select 'current_timeline=' || coalesce((select (('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int)::text where not pg_is_in_recovery()), '')",
    `select 'slots=' || coalesce((select string_agg(slot_name || ':' || slot_type || ':' || active || ':' || coalesce(restart_lsn::text, ''), ';' order by slot_name) from pg_replication_slots where starts_with(slot_name, ${sqlLiteral(NAME_PREFIX)})), '')`,
    ...(options.personalColumns
      ? [
          "select 'database=' || datname from pg_database where datallowconn and not datistemplate and datname <> 'postgres' and not pg_is_in_recovery()",
        ]
      : []),
  ].join(" union all ");
  const asPostgres = "sudo -n -u postgres";
  const root = [
    "cd /",
    `out=$(${asPostgres} psql -X -A -t -q -d postgres -c ${shellQuote(sql)} 2>/dev/null) || out=${shellQuote(`roles=
verifier=${EMPTY_SHA256}
current_timeline=
slots=`)}`,
    `printf '%s\n' "$out" | grep -v '^database='`,
    `if ${asPostgres} ${PG_BIN}/pg_ctl status -D ${DATA_DIR} >/dev/null 2>&1; then echo running=1; fi`,
    `if test -e ${DATA_DIR}/standby.signal; then echo standby=1; fi`,
    `if test -e ${STANDBY_INCLUDE_PATH}; then echo followed=1; fi`,
    // as postgres, whose folder holds it: a link planted there shows nothing of root's
    `echo "rebuilt=$(${asPostgres} cat ${REBUILD_STAMP} 2>/dev/null | head -n 1)"`,
    `${asPostgres} ${PG_BIN}/pg_controldata -D ${DATA_DIR} 2>/dev/null | awk -F':[[:space:]]*' '$1 == "Database system identifier" { print "system=" $2 } $1 == "Latest checkpoint'"'"'s TimeLineID" { print "timeline=" $2 }'`,
    `echo "passfile=$(cat ${PASSFILE_PATH} 2>/dev/null | sha256sum | cut -c1-64)"`,
    ...(options.personalColumns
      ? [
          `printf '%s\n' "$out" | sed -n 's/^database=//p' | while IFS= read -r db; do ${asPostgres} env PGDATABASE="$db" psql -X -A -t -q -c ${shellQuote(PERSONAL_COLUMNS_SQL)} 2>/dev/null | while IFS= read -r column; do printf 'personal_column=%s.%s\n' "$db" "$column"; done; done`,
        ]
      : []),
  ].join("; ");
  return [
    "awk '/^MemTotal:/ { print \"memory_kib=\" $2 }' /proc/meminfo",
    'echo "cpus=$(nproc)"',
    `sudo -n sh -c ${shellQuote(root)}`,
  ].join("; ");
}

export const observeHostOverSsh: HostObserver = (cluster, host, roles, identity = { kind: "deploy" }, timeoutMs = TIMEOUT_MS) =>
  new Promise((resolve, reject) => {
    // the preview key runs the observation the host installed, whatever it asks for
    const command = identity.kind === "preview" ? "observe" : probeScript(roles, { personalColumns: !!cluster.refresh });
    const child = spawn("ssh", [...sshArgs(cluster, host, identity), command], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new HostUnreachable(cluster.name, host, `no answer over SSH within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new HostUnreachable(cluster.name, host, e.message));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const values = Object.fromEntries(out.split("\n").map((l) => l.split("=", 2) as [string, string]));
      const personal = out
        .split("\n")
        .filter((l) => l.startsWith("personal_column="))
        .map((l) => l.slice("personal_column=".length));
      const memoryKiB = Number(values.memory_kib);
      const cpus = Number(values.cpus);
      if (code !== 0 || !memoryKiB || !cpus) {
        const why = err.trim().split("\n").pop() || `ssh exited with ${code}`;
        reject(new HostUnreachable(cluster.name, host, why));
        return;
      }
      resolve({
        memoryMiB: Math.floor(memoryKiB / 1024),
        cpus,
        roles: (values.roles ?? "").split(",").filter(Boolean),
        running: values.running === "1",
        standby: values.standby === "1",
        followed: values.followed === "1",
        rebuilt: values.rebuilt ?? "",
        systemId: values.system ?? "",
        timeline: Number(values.timeline ?? 0),
        ...(values.current_timeline ? { currentTimeline: Number(values.current_timeline) } : {}),
        ...(values.slots !== undefined ? { slots: parseSlots(values.slots) } : {}),
        passfileHash: values.passfile ?? "",
        replicationVerifierHash: values.verifier ?? "",
        ...(values.running === "1" && !values.standby ? { personalColumns: personal } : {}),
      });
    });
  });

let observer: HostObserver = observeHostOverSsh;

/** Unit tests replace the SSH observer; the program always uses the real one. */
export function setHostObserver(o: HostObserver): void {
  observer = o;
}

export function observeHost(cluster: ClusterSpec, host: HostSpec, roles: string[], identity?: Identity): Promise<HostObservation> {
  return observer(cluster, host, roles, identity);
}

/** A host marked down, read briefly: what it showed, or why it did not answer (the expected case, not an error). */
export async function observeDownHost(
  cluster: ClusterSpec,
  host: HostSpec,
  roles: string[],
  identity?: Identity,
): Promise<{ seen: HostObservation } | { unreachable: string }> {
  try {
    return { seen: await observer(cluster, host, roles, identity, DOWN_TIMEOUT_MS) };
  } catch (e) {
    if (e instanceof HostUnreachable) return { unreachable: e.message };
    throw e;
  }
}
