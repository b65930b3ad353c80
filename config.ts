// Stack configuration: its shape, defaults and validation. Pure: index.ts feeds it what
// `pulumi config` holds, so every mistake is reported, with its key, before any resource exists.
import { isIP } from "node:net";
import { nearest } from "./lib/nearest";
import { checkSetting } from "./config/settingsCatalogue";

export const NAMESPACE = "pg-replication";

export type SettingValue = string | number | boolean;

export interface HostSpec {
  name: string;
  address: string;
  sshPort: number;
  /** Changing this value rebuilds the host's standby once (pg_basebackup into a fresh data directory). */
  rebuild?: string;
  /** The host is down (failover): nothing is run on it, and the others do not wait for it. */
  down?: boolean;
}

export interface ClientSpec {
  database: string;
  user: string;
  address: string;
}

export interface SshSpec {
  user: string;
  /** The deploy key's file; absent: the deploy key is taken from the SSH agent (SSH_AUTH_SOCK), never stored. */
  privateKeyPath?: string;
  knownHostsPath?: string;
  /** The preview identity: a user whose key the hosts restrict to the read-only observation. */
  preview?: { user: string; publicKeyPath: string };
}

export interface ClusterSpec {
  name: string;
  leader: string;
  /** Set for the target of a migration with a way back: its leader decodes WAL for the source. */
  logicalDecoding?: boolean;
  hosts: HostSpec[];
  port: number;
  sslmode: "disable" | "require" | "verify-ca" | "verify-full";
  ssh: SshSpec;
  adminAddresses: string[];
  clients: ClientSpec[];
  settings: Record<string, SettingValue>;
  /** false: no computed tuning; otherwise overrides of the computed values. */
  tuning: false | Record<string, SettingValue>;
}

export const MIGRATION_PHASES = ["sync", "cutover", "revert", "complete"] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

export interface MigrationSpec {
  source: { address: string; port: number; database: string; user: string; sslmode: ClusterSpec["sslmode"] };
  target: { cluster: string; database: string };
  /** "schema.table"; empty: every table of the source database. */
  tables: string[];
  /** sync: publication, schema and subscription; cutover: the switch; complete: publication dropped. */
  phase: MigrationPhase;
  /** Added to every sequence copied at cutover (and at a revert). */
  sequenceMargin: number;
  /** Keep a way back after the cutover: the source follows the target until complete (or revert). */
  wayBack: boolean;
  /** in-pause: counts and checksums before the switch; after-switch: counts before, checksums on snapshots after. */
  checksums: "in-pause" | "after-switch";
}

export interface StackSpec {
  clusters: ClusterSpec[];
  migration?: MigrationSpec;
  /** Pulumi's `protect` on every data-bearing resource (lib/dataBearing.ts): production sets it. */
  protect: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Keys that must hold Pulumi secrets (`pulumi config set --secret KEY ...`). */
export const SECRET_KEYS = ["adminPassword", "replicationPassword"] as const;
/** Required only with a migration: the source user's password. */
export const MIGRATION_SECRET_KEY = "sourcePassword";
/** Required only with a preview identity: the password of its pg_monitor role. */
export const PREVIEW_SECRET_KEY = "previewPassword";
export const TOP_LEVEL_KEYS = ["clusters", "migration", "protect", ...SECRET_KEYS, MIGRATION_SECRET_KEY, PREVIEW_SECRET_KEY];

/** The settings computed from each host's memory and CPUs (render/tuning.ts). */
export const TUNED_SETTINGS = [
  "shared_buffers",
  "effective_cache_size",
  "work_mem",
  "maintenance_work_mem",
  "max_wal_size",
  "min_wal_size",
  "wal_buffers",
  "max_worker_processes",
  "max_parallel_workers",
  "max_parallel_workers_per_gather",
  "max_parallel_maintenance_workers",
  "random_page_cost",
  "effective_io_concurrency",
  "checkpoint_completion_target",
] as const;

/** Settings the program owns; a cluster cannot override them through `settings`. */
const MANAGED_SETTINGS: Record<string, string> = {
  port: "set clusters[].port instead",
  primary_conninfo: "the standby step writes it",
  primary_slot_name: "the standby step writes it",
  data_directory: "the Debian cluster's own",
  config_file: "the Debian cluster's own",
  hba_file: "the Debian cluster's own",
  ident_file: "the Debian cluster's own",
  include: "includes are not allowed",
  include_dir: "includes are not allowed",
  include_if_exists: "includes are not allowed",
};

const CLUSTER_KEYS = ["name", "leader", "hosts", "port", "sslmode", "ssh", "adminAddresses", "clients", "settings", "tuning"];
const HOST_KEYS = ["name", "address", "sshPort", "rebuild", "down"];
const SSH_KEYS = ["user", "privateKeyPath", "knownHostsPath", "preview"];
const PREVIEW_KEYS = ["user", "publicKeyPath"];
const CLIENT_KEYS = ["database", "user", "address"];
const MIGRATION_KEYS = ["source", "target", "tables", "phase", "sequenceMargin", "wayBack", "checksums"];
const SOURCE_KEYS = ["address", "port", "database", "user", "sslmode"];
const TARGET_KEYS = ["cluster", "database"];
const QUALIFIED_TABLE = /^[a-z_][a-z0-9_$]*\.[a-z_][a-z0-9_$]*$/;

const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const PG_NAME_MAX = 63;
const SETTING_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const SSLMODES = ["disable", "require", "verify-ca", "verify-full"] as const;
const CONTROL = /[\u0000-\u001f\u007f]/;

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split("/");
  if (rest.length > 0 || bits === undefined || !/^[0-9]{1,3}$/.test(bits)) return false;
  const family = isIP(addr);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

class Checker {
  readonly problems: string[] = [];
  fail(key: string, message: string): void {
    this.problems.push(`${NAMESPACE}:${key}: ${message}`);
  }
  /** Unknown keys are mistakes (a typo such as `leadr:` would otherwise be ignored). */
  knownKeys(raw: Raw, known: string[], key: string): void {
    for (const k of Object.keys(raw)) {
      if (known.includes(k)) continue;
      const guess = nearest(k, known);
      this.fail(`${key}.${k}`, `is not a known key${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""} (known: ${known.join(", ")})`);
    }
  }
  string(raw: Raw, field: string, key: string, fallback?: string): string {
    const v = raw[field];
    if (v === undefined || v === null || v === "") {
      if (fallback !== undefined) return fallback;
      this.fail(`${key}.${field}`, "is required");
      return "";
    }
    if (typeof v !== "string") {
      this.fail(`${key}.${field}`, `must be a string, got ${JSON.stringify(v)}`);
      return "";
    }
    return v;
  }
  port(raw: Raw, field: string, key: string, fallback: number): number {
    const v = raw[field] ?? fallback;
    const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
      this.fail(`${key}.${field}`, `must be a port number (1-65535), got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  }
  /** A role or database name as pg_hba.conf and SQL can carry it. */
  pgName(value: string, key: string): void {
    if (value.length > PG_NAME_MAX) this.fail(key, `is longer than ${PG_NAME_MAX} characters`);
    if (value.includes('"')) this.fail(key, "contains a double quote, which pg_hba.conf cannot represent");
    if (/^[+@]/.test(value)) this.fail(key, "starts with + or @, which pg_hba.conf reads as a group or a file");
  }
  array(raw: Raw, field: string, key: string, required: boolean): unknown[] {
    const v = raw[field];
    if (v === undefined || v === null) {
      if (required) this.fail(`${key}.${field}`, "is required (a non-empty list)");
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(`${key}.${field}`, "must be a list");
      return [];
    }
    if (required && v.length === 0) this.fail(`${key}.${field}`, "must not be empty");
    return v;
  }
}

/** Every string anywhere in the config, with its key: control characters are refused everywhere. */
function checkControlCharacters(c: Checker, raw: unknown, key: string): void {
  if (typeof raw === "string") {
    if (CONTROL.test(raw)) c.fail(key, `contains a control character (${JSON.stringify(raw)})`);
  } else if (Array.isArray(raw)) {
    raw.forEach((v, i) => checkControlCharacters(c, v, `${key}[${i}]`));
  } else if (isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      if (CONTROL.test(k)) c.fail(`${key}`, `has a key with a control character (${JSON.stringify(k)})`);
      else checkControlCharacters(c, v, `${key}.${k}`);
    }
  }
}

function parseHost(c: Checker, raw: unknown, key: string): HostSpec {
  if (!isObject(raw)) {
    c.fail(key, "must be an object with name and address");
    return { name: "", address: "", sshPort: 22 };
  }
  c.knownKeys(raw, HOST_KEYS, key);
  const name = c.string(raw, "name", key);
  if (name && !NAME.test(name)) c.fail(`${key}.name`, "must be lowercase letters, digits and dashes, starting with a letter (at most 31)");
  const address = c.string(raw, "address", key);
  if (address && isIP(address) === 0 && !HOSTNAME.test(address)) {
    c.fail(`${key}.address`, `is neither an IP address nor a host name: ${JSON.stringify(address)}`);
  }
  const host: HostSpec = { name, address, sshPort: c.port(raw, "sshPort", key, 22) };
  if (raw.rebuild !== undefined && raw.rebuild !== null) {
    const rebuild = typeof raw.rebuild === "number" ? String(raw.rebuild) : c.string(raw, "rebuild", key);
    if (rebuild && !/^[A-Za-z0-9._:-]{1,64}$/.test(rebuild)) {
      c.fail(`${key}.rebuild`, "must be a short token (letters, digits, . _ : -), e.g. a date; change it to rebuild once");
    }
    host.rebuild = rebuild;
  }
  if (raw.down !== undefined && raw.down !== null) {
    if (typeof raw.down !== "boolean") c.fail(`${key}.down`, "must be true or false");
    else if (raw.down) host.down = true;
  }
  return host;
}

function parseClient(c: Checker, raw: unknown, key: string): ClientSpec {
  if (!isObject(raw)) {
    c.fail(key, "must be an object with database, user and address");
    return { database: "", user: "", address: "" };
  }
  c.knownKeys(raw, CLIENT_KEYS, key);
  const database = c.string(raw, "database", key);
  const user = c.string(raw, "user", key);
  const address = c.string(raw, "address", key);
  c.pgName(database, `${key}.database`);
  c.pgName(user, `${key}.user`);
  if (address && !isCidr(address)) c.fail(`${key}.address`, `must be a CIDR such as 10.0.0.0/24, got ${JSON.stringify(address)}`);
  return { database, user, address };
}

function settingValue(c: Checker, value: unknown, key: string): SettingValue | undefined {
  if (typeof value === "number" && !Number.isFinite(value)) c.fail(key, "must be a finite number");
  else if (["string", "number", "boolean"].includes(typeof value)) return value as SettingValue;
  else c.fail(key, "must be a string, number or boolean");
  return undefined;
}

function parseSettings(c: Checker, raw: unknown, key: string): Record<string, SettingValue> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) {
    c.fail(key, "must be a map of PostgreSQL setting names to values");
    return {};
  }
  const settings: Record<string, SettingValue> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!SETTING_NAME.test(name)) c.fail(`${key}.${name}`, "is not a PostgreSQL setting name");
    else if (MANAGED_SETTINGS[name]) c.fail(`${key}.${name}`, `is managed by pg-replication: ${MANAGED_SETTINGS[name]}`);
    else if (name === "wal_level" && !["replica", "logical"].includes(String(value)))
      c.fail(`${key}.${name}`, "must be replica or logical (standbys need WAL)");
    else {
      const v = settingValue(c, value, `${key}.${name}`);
      const problem = v === undefined ? undefined : checkSetting(name, v);
      if (problem) c.fail(`${key}.${name}`, problem);
      else if (v !== undefined) settings[name] = v;
    }
  }
  return settings;
}

function parseTuning(c: Checker, raw: unknown, key: string): ClusterSpec["tuning"] {
  if (raw === undefined || raw === null || raw === true) return {};
  if (raw === false) return false;
  if (!isObject(raw)) {
    c.fail(key, "must be false (no computed tuning) or a map of tuned settings to override");
    return {};
  }
  const tuned = TUNED_SETTINGS as readonly string[];
  const out: Record<string, SettingValue> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!tuned.includes(name)) {
      const guess = nearest(name, tuned);
      c.fail(
        `${key}.${name}`,
        `is not a tuned setting${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""} (other settings go in settings)`,
      );
      continue;
    }
    const v = settingValue(c, value, `${key}.${name}`);
    const problem = v === undefined ? undefined : checkSetting(name, v);
    if (problem) c.fail(`${key}.${name}`, problem);
    else if (v !== undefined) out[name] = v;
  }
  return out;
}

function parsePreview(c: Checker, raw: unknown, key: string, deployUser: string): SshSpec["preview"] {
  const r = isObject(raw) ? raw : {};
  if (!isObject(raw)) c.fail(key, "must be an object: {user, publicKeyPath}");
  else c.knownKeys(r, PREVIEW_KEYS, key);
  const user = c.string(r, "user", key, "pgr-preview");
  if (!UNIX_USER.test(user)) c.fail(`${key}.user`, `is not a Unix user name: ${JSON.stringify(user)}`);
  else if (user === deployUser) c.fail(`${key}.user`, "must not be the deploy user: the preview key must not be able to change a host");
  return { user, publicKeyPath: c.string(r, "publicKeyPath", key) };
}

function parseCluster(c: Checker, raw: unknown, key: string): ClusterSpec {
  const r = isObject(raw) ? raw : {};
  if (!isObject(raw)) c.fail(key, "must be an object");
  c.knownKeys(r, CLUSTER_KEYS, key);
  const name = c.string(r, "name", key);
  if (name && !NAME.test(name)) c.fail(`${key}.name`, "must be lowercase letters, digits and dashes, starting with a letter (at most 31)");
  const hosts = c.array(r, "hosts", key, true).map((h, i) => parseHost(c, h, `${key}.hosts[${i}]`));
  const leader = c.string(r, "leader", key);
  if (leader && hosts.length > 0 && !hosts.some((h) => h.name === leader)) {
    c.fail(`${key}.leader`, `names no host of this cluster: ${JSON.stringify(leader)} (hosts: ${hosts.map((h) => h.name).join(", ")})`);
  }
  if (leader && hosts.some((h) => h.name === leader && h.down)) {
    c.fail(`${key}.leader`, `names ${JSON.stringify(leader)}, which is marked down; name another host as the leader`);
  }
  const sslmode = c.string(r, "sslmode", key, "require");
  if (!(SSLMODES as readonly string[]).includes(sslmode)) c.fail(`${key}.sslmode`, `must be one of ${SSLMODES.join(", ")}`);
  const sshRaw = isObject(r.ssh) ? r.ssh : {};
  if (!isObject(r.ssh)) c.fail(`${key}.ssh`, "is required: {user, privateKeyPath, knownHostsPath}");
  else c.knownKeys(sshRaw, SSH_KEYS, `${key}.ssh`);
  const ssh: SshSpec = {
    user: c.string(sshRaw, "user", `${key}.ssh`),
    privateKeyPath: c.string(sshRaw, "privateKeyPath", `${key}.ssh`, "") || undefined,
    knownHostsPath: c.string(sshRaw, "knownHostsPath", `${key}.ssh`, "") || undefined,
  };
  if (ssh.user && !UNIX_USER.test(ssh.user)) c.fail(`${key}.ssh.user`, `is not a Unix user name: ${JSON.stringify(ssh.user)}`);
  if (sshRaw.preview !== undefined) ssh.preview = parsePreview(c, sshRaw.preview, `${key}.ssh.preview`, ssh.user);
  const adminAddresses = c.array(r, "adminAddresses", key, true).map((a, i) => {
    if (typeof a !== "string" || !isCidr(a)) c.fail(`${key}.adminAddresses[${i}]`, `must be a CIDR, got ${JSON.stringify(a)}`);
    return String(a);
  });
  const clients = c.array(r, "clients", key, false).map((cl, i) => parseClient(c, cl, `${key}.clients[${i}]`));
  const settings = parseSettings(c, r.settings, `${key}.settings`);
  return {
    name,
    leader,
    hosts,
    port: c.port(r, "port", key, 5432),
    sslmode: sslmode as ClusterSpec["sslmode"],
    ssh,
    adminAddresses,
    clients,
    settings,
    tuning: parseTuning(c, r.tuning, `${key}.tuning`),
  };
}

function checkUnique(c: Checker, clusters: ClusterSpec[]): void {
  const seen = new Map<string, string>();
  const once = (kind: string, value: string, key: string) => {
    if (!value) return;
    const previous = seen.get(`${kind}\0${value}`);
    if (previous) c.fail(key, `duplicate ${kind} ${JSON.stringify(value)}, already used by ${NAMESPACE}:${previous}`);
    else seen.set(`${kind}\0${value}`, key);
  };
  clusters.forEach((cl, ci) => {
    once("cluster name", cl.name, `clusters[${ci}].name`);
    cl.hosts.forEach((h, hi) => {
      once("host name", h.name, `clusters[${ci}].hosts[${hi}].name`);
      // one host, one PostgreSQL cluster: the same machine under another name is still a duplicate
      once("address", h.address, `clusters[${ci}].hosts[${hi}].address`);
    });
  });
}

function parseMigration(c: Checker, raw: unknown, clusters: ClusterSpec[]): MigrationSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  const key = "migration";
  if (!isObject(raw)) {
    c.fail(key, "must be an object with source, target and phase");
    return undefined;
  }
  c.knownKeys(raw, MIGRATION_KEYS, key);
  const src = isObject(raw.source) ? raw.source : {};
  if (!isObject(raw.source)) c.fail(`${key}.source`, "is required: {address, port, database, user, sslmode}");
  else c.knownKeys(src, SOURCE_KEYS, `${key}.source`);
  const address = c.string(src, "address", `${key}.source`);
  if (address && isIP(address) === 0 && !HOSTNAME.test(address))
    c.fail(`${key}.source.address`, `is neither an IP address nor a host name: ${JSON.stringify(address)}`);
  const sslmode = c.string(src, "sslmode", `${key}.source`, "require");
  if (!(SSLMODES as readonly string[]).includes(sslmode)) c.fail(`${key}.source.sslmode`, `must be one of ${SSLMODES.join(", ")}`);
  const source = {
    address,
    port: c.port(src, "port", `${key}.source`, 5432),
    database: c.string(src, "database", `${key}.source`),
    user: c.string(src, "user", `${key}.source`),
    sslmode: sslmode as ClusterSpec["sslmode"],
  };
  c.pgName(source.database, `${key}.source.database`);
  c.pgName(source.user, `${key}.source.user`);
  const tgt = isObject(raw.target) ? raw.target : {};
  if (!isObject(raw.target)) c.fail(`${key}.target`, "is required: {cluster, database}");
  else c.knownKeys(tgt, TARGET_KEYS, `${key}.target`);
  const target = {
    cluster: c.string(tgt, "cluster", `${key}.target`),
    database: c.string(tgt, "database", `${key}.target`, source.database),
  };
  c.pgName(target.database, `${key}.target.database`);
  if (target.cluster && !clusters.some((cl) => cl.name === target.cluster)) {
    c.fail(
      `${key}.target.cluster`,
      `names no configured cluster: ${JSON.stringify(target.cluster)} (clusters: ${clusters.map((cl) => cl.name).join(", ")})`,
    );
  }
  const tables = c.array(raw, "tables", key, false).map((t, i) => {
    if (typeof t !== "string" || !QUALIFIED_TABLE.test(t))
      c.fail(`${key}.tables[${i}]`, `must be schema.table in lower case, got ${JSON.stringify(t)}`);
    return String(t);
  });
  const phase = c.string(raw, "phase", key, "sync");
  if (!(MIGRATION_PHASES as readonly string[]).includes(phase))
    c.fail(`${key}.phase`, `must be one of ${MIGRATION_PHASES.join(", ")} (got ${JSON.stringify(phase)})`);
  const margin = raw.sequenceMargin ?? 0;
  if (typeof margin !== "number" || !Number.isInteger(margin) || margin < 0)
    c.fail(`${key}.sequenceMargin`, "must be a whole number, 0 or more");
  const wayBack = raw.wayBack ?? false;
  if (typeof wayBack !== "boolean") c.fail(`${key}.wayBack`, "must be true or false");
  if (phase === "revert" && wayBack !== true)
    c.fail(`${key}.phase`, "revert takes the way back, which needs migration.wayBack: true from before the cutover");
  const checksums = c.string(raw, "checksums", key, "in-pause");
  if (checksums !== "in-pause" && checksums !== "after-switch")
    c.fail(`${key}.checksums`, `must be in-pause or after-switch (got ${JSON.stringify(checksums)})`);
  return {
    source,
    target,
    tables,
    phase: phase as MigrationPhase,
    sequenceMargin: Number(margin) || 0,
    wayBack: wayBack === true,
    checksums: checksums === "after-switch" ? "after-switch" : "in-pause",
  };
}

export interface RawStackConfig {
  clusters?: unknown;
  migration?: unknown;
  protect?: unknown;
  /** Every key set under the `pg-replication:` namespace, to catch typos. */
  keys?: string[];
}

/**
 * Validates the raw `pg-replication:*` config. `secretKeys` lists the keys Pulumi holds as
 * secrets; a password given in plaintext is refused, never used.
 */
export function parseStackConfig(raw: RawStackConfig, present: Record<string, boolean>, secretKeys: Set<string>): StackSpec {
  const c = new Checker();
  for (const k of raw.keys ?? []) {
    if (TOP_LEVEL_KEYS.includes(k)) continue;
    const guess = nearest(k, TOP_LEVEL_KEYS);
    c.fail(k, `is not a known key${guess ? `; did you mean ${JSON.stringify(`${NAMESPACE}:${guess}`)}?` : ""}`);
  }
  const withPreview =
    Array.isArray(raw.clusters) && raw.clusters.some((cl) => isObject(cl) && isObject(cl.ssh) && cl.ssh.preview !== undefined);
  const secrets: string[] = [
    ...SECRET_KEYS,
    ...(raw.migration !== undefined && raw.migration !== null ? [MIGRATION_SECRET_KEY] : []),
    ...(withPreview ? [PREVIEW_SECRET_KEY] : []),
  ];
  for (const key of secrets) {
    if (!present[key]) c.fail(key, `is required: pulumi config set --secret ${key} <value>`);
    else if (!secretKeys.has(key)) c.fail(key, `is stored in plaintext; it must be a secret: pulumi config set --secret ${key} <value>`);
  }
  let clusters: ClusterSpec[] = [];
  checkControlCharacters(c, raw.clusters, "clusters");
  if (!Array.isArray(raw.clusters) || raw.clusters.length === 0) c.fail("clusters", "is required: a non-empty list of clusters");
  else clusters = raw.clusters.map((cl, i) => parseCluster(c, cl, `clusters[${i}]`));
  checkUnique(c, clusters);
  checkControlCharacters(c, raw.migration, "migration");
  const migration = parseMigration(c, raw.migration, clusters);
  if (raw.protect !== undefined && typeof raw.protect !== "boolean") c.fail("protect", "must be true or false");
  if (c.problems.length > 0) throw new ConfigError(c.problems);
  return {
    clusters: migration?.wayBack ? withWayBackClient(clusters, migration) : clusters,
    ...(migration ? { migration } : {}),
    protect: raw.protect === true,
  };
}

/** The role the source logs in with to follow the target after a cutover (migrate/wayBack.ts). */
export const WAY_BACK_ROLE = "pgr_wayback";

/**
 * With a way back, the target cluster's pg_hba admits the source for that role and database
 * alone, and its WAL carries what logical decoding needs (wal_level logical: one restart).
 */
function withWayBackClient(clusters: ClusterSpec[], m: MigrationSpec): ClusterSpec[] {
  const ip = isIP(m.source.address);
  const address = ip === 4 ? `${m.source.address}/32` : ip === 6 ? `${m.source.address}/128` : m.source.address;
  const client = { database: m.target.database, user: WAY_BACK_ROLE, address };
  return clusters.map((cl) => (cl.name === m.target.cluster ? { ...cl, logicalDecoding: true, clients: [...cl.clients, client] } : cl));
}

/** The host key for `address` in an OpenSSH known_hosts text ("addr[,addr] type key"), if any. */
export function findHostKey(knownHosts: string, address: string, port = 22): string | undefined {
  const wanted = port === 22 ? address : `[${address}]:${port}`;
  for (const line of knownHosts.split("\n")) {
    const [names, type, key] = line.trim().split(/\s+/);
    if (!names || names.startsWith("#") || !type || !key) continue;
    if (names.split(",").includes(wanted)) return `${type} ${key}`;
  }
  return undefined;
}
