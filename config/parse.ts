// The section parsers of the stack configuration. Pure: index.ts feeds parseStackConfig what
// `pulumi config` holds, so every mistake is reported, with its key, before any resource exists.
import { nearest } from "../lib/nearest";
import { WAY_BACK_ROLE } from "../names";
import { hbaAddress } from "../render/pgHba";
import { Checker, checkControlCharacters, isCidr, isObject } from "./check";
import { MANAGED_SETTINGS, TUNED_SETTINGS } from "../postgres15";
import { checkSetting } from "./settingsCatalogue";
import { parseBackup } from "./backup";
import { parseRefresh } from "./refresh";
import {
  ClientSpec,
  ClusterSpec,
  ConfigError,
  HostSpec,
  MIGRATION_PHASES,
  MIGRATION_SECRET_KEY,
  MigrationPhase,
  MigrationSpec,
  NAMESPACE,
  PREVIEW_SECRET_KEY,
  RawStackConfig,
  S3_SECRET_KEYS,
  SECRET_KEYS,
  SettingValue,
  SshSpec,
  StackSpec,
  TOP_LEVEL_KEYS,
} from "./spec";

const CLUSTER_KEYS = [
  "name",
  "leader",
  "hosts",
  "port",
  "sslmode",
  "sslRootCert",
  "ssh",
  "adminAddresses",
  "adminCertificate",
  "clients",
  "settings",
  "tuning",
  "backup",
  "refresh",
];
const HOST_KEYS = ["name", "address", "sshPort", "rebuild", "down", "fenced"];
const SSH_KEYS = ["user", "privateKeyPath", "knownHostsPath", "insecureSkipHostKeyCheck", "preview"];
const PREVIEW_KEYS = ["user", "publicKeyPath", "from"];
const CLIENT_KEYS = ["database", "user", "address"];
const ADMIN_CERTIFICATE_KEYS = ["cert", "key"];
const MIGRATION_KEYS = ["source", "target", "tables", "phase", "sequenceMargin", "wayBack", "checksums"];
const SOURCE_KEYS = ["address", "port", "database", "user", "sslmode"];
const TARGET_KEYS = ["cluster", "database"];
const QUALIFIED_TABLE = /^[a-z_][a-z0-9_$]*\.[a-z_][a-z0-9_$]*$/;
const SETTING_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;

function parseHost(c: Checker, raw: unknown, key: string): HostSpec {
  if (!isObject(raw)) {
    c.fail(key, "must be an object with name and address");
    return { name: "", address: "", sshPort: 22 };
  }
  c.knownKeys(raw, HOST_KEYS, key);
  const name = c.name(raw, "name", key);
  const address = c.address(raw, "address", key);
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
  if (raw.fenced !== undefined && raw.fenced !== null) {
    if (typeof raw.fenced !== "boolean") c.fail(`${key}.fenced`, "must be true or false");
    else if (raw.fenced && !host.down)
      c.fail(`${key}.fenced`, "is only for a host marked down (down: true): it says that host was powered off or isolated");
    else if (raw.fenced) host.fenced = true;
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
    else if (Object.hasOwn(MANAGED_SETTINGS, name)) c.fail(`${key}.${name}`, `is managed by pg-replication: ${MANAGED_SETTINGS[name]}`);
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
  if (!isObject(raw)) c.fail(key, "must be an object: {user, publicKeyPath, from}");
  else c.knownKeys(r, PREVIEW_KEYS, key);
  const user = c.string(r, "user", key, "pgr-preview");
  if (c.unixUser(user, `${key}.user`) && user === deployUser)
    c.fail(`${key}.user`, "must not be the deploy user: the preview key must not be able to change a host");
  const publicKeyPath = c.string(r, "publicKeyPath", key);
  if (r.from === undefined) return { user, publicKeyPath };
  const from = c.array(r, "from", key, true).map((a, i) => {
    if (typeof a !== "string" || !isCidr(a)) c.fail(`${key}.from[${i}]`, `must be a CIDR, got ${JSON.stringify(a)}`);
    return String(a);
  });
  return { user, publicKeyPath, from };
}

function parseAdminCertificate(
  c: Checker,
  raw: unknown,
  clusterKey: string,
  sslmode: string,
  sslRootCert: string | undefined,
): ClusterSpec["adminCertificate"] {
  const key = `${clusterKey}.adminCertificate`;
  const r = isObject(raw) ? raw : {};
  if (!isObject(raw)) c.fail(key, "must be an object: {cert, key}");
  else c.knownKeys(r, ADMIN_CERTIFICATE_KEYS, key);
  if (sslmode === "disable") c.fail(key, "needs TLS: a client certificate travels in the TLS handshake, and sslmode is disable");
  if (!sslRootCert) c.fail(key, `needs sslRootCert: the CA that signed it, which the members check client certificates against`);
  return { cert: c.string(r, "cert", key), key: c.string(r, "key", key) };
}

function parseCluster(c: Checker, raw: unknown, key: string): ClusterSpec {
  const r = isObject(raw) ? raw : {};
  if (!isObject(raw)) c.fail(key, "must be an object");
  c.knownKeys(r, CLUSTER_KEYS, key);
  const name = c.name(r, "name", key);
  const hosts = c.array(r, "hosts", key, true).map((h, i) => parseHost(c, h, `${key}.hosts[${i}]`));
  const leader = c.string(r, "leader", key);
  if (leader && hosts.length > 0 && !hosts.some((h) => h.name === leader)) {
    c.fail(`${key}.leader`, `names no host of this cluster: ${JSON.stringify(leader)} (hosts: ${hosts.map((h) => h.name).join(", ")})`);
  }
  if (leader && hosts.some((h) => h.name === leader && h.down)) {
    c.fail(`${key}.leader`, `names ${JSON.stringify(leader)}, which is marked down; name another host as the leader`);
  }
  const sslmode = c.sslmode(r, "sslmode", key);
  const sslRootCert = c.string(r, "sslRootCert", key, "") || undefined;
  if (!sslRootCert && (sslmode === "verify-ca" || sslmode === "verify-full"))
    c.fail(
      `${key}.sslRootCert`,
      `is required with sslmode ${sslmode}: the CA that signed the members' certificates (they verify each other with it)`,
    );
  const sshRaw = isObject(r.ssh) ? r.ssh : {};
  if (!isObject(r.ssh)) c.fail(`${key}.ssh`, "is required: {user, privateKeyPath, knownHostsPath}");
  else c.knownKeys(sshRaw, SSH_KEYS, `${key}.ssh`);
  const ssh: SshSpec = {
    user: c.string(sshRaw, "user", `${key}.ssh`),
    privateKeyPath: c.string(sshRaw, "privateKeyPath", `${key}.ssh`, "") || undefined,
    knownHostsPath: c.string(sshRaw, "knownHostsPath", `${key}.ssh`, "") || undefined,
  };
  if (ssh.user) c.unixUser(ssh.user, `${key}.ssh.user`);
  const skip = sshRaw.insecureSkipHostKeyCheck;
  if (skip !== undefined && typeof skip !== "boolean") c.fail(`${key}.ssh.insecureSkipHostKeyCheck`, "must be true or false");
  if (skip === true) ssh.insecureSkipHostKeyCheck = true;
  else if (isObject(r.ssh) && !ssh.knownHostsPath)
    c.fail(
      `${key}.ssh.knownHostsPath`,
      "is required: the hosts' keys are pinned (a host that answers with another key is refused); insecureSkipHostKeyCheck: true goes without, never on production",
    );
  if (sshRaw.preview !== undefined) ssh.preview = parsePreview(c, sshRaw.preview, `${key}.ssh.preview`, ssh.user);
  const adminAddresses = c.array(r, "adminAddresses", key, true).map((a, i) => {
    if (typeof a !== "string" || !isCidr(a)) c.fail(`${key}.adminAddresses[${i}]`, `must be a CIDR, got ${JSON.stringify(a)}`);
    return String(a);
  });
  const adminCertificate =
    r.adminCertificate === undefined ? undefined : parseAdminCertificate(c, r.adminCertificate, key, sslmode, sslRootCert);
  const clients = c.array(r, "clients", key, false).map((cl, i) => parseClient(c, cl, `${key}.clients[${i}]`));
  const settings = parseSettings(c, r.settings, `${key}.settings`);
  const backup = parseBackup(c, r.backup, `${key}.backup`, name);
  const refresh = parseRefresh(c, r.refresh, `${key}.refresh`, name);
  for (const name of ["archive_mode", "archive_command", "restore_command"])
    if (backup && Object.hasOwn(settings, name))
      c.fail(`${key}.settings.${name}`, "is set by backup (pgBackRest archives every member's WAL)");
  if (backup && ssh.insecureSkipHostKeyCheck)
    c.fail(
      `${key}.backup`,
      "needs pinned host keys (ssh.knownHostsPath): the members and the repository host log in to each other over SSH",
    );
  if (backup && hosts.some((h) => h.name === backup.repository.name || h.address === backup.repository.address))
    c.fail(`${key}.backup.repository`, "must be a host of its own, not a member: a backup on a member is lost with it");
  return {
    name,
    leader,
    hosts,
    port: c.port(r, "port", key, 5432),
    sslmode,
    ...(sslRootCert ? { sslRootCert } : {}),
    ssh,
    adminAddresses,
    ...(adminCertificate ? { adminCertificate } : {}),
    clients,
    settings,
    tuning: parseTuning(c, r.tuning, `${key}.tuning`),
    ...(backup ? { backup } : {}),
    ...(refresh ? { refresh } : {}),
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
  const address = c.address(src, "address", `${key}.source`);
  const sslmode = c.sslmode(src, "sslmode", `${key}.source`);
  const source = {
    address,
    port: c.port(src, "port", `${key}.source`, 5432),
    database: c.string(src, "database", `${key}.source`),
    user: c.string(src, "user", `${key}.source`),
    sslmode,
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
  // the way back is the default: it is where a mismatch found after the switch goes
  const wayBack = raw.wayBack ?? true;
  if (typeof wayBack !== "boolean") c.fail(`${key}.wayBack`, "must be true or false");
  if (phase === "revert" && wayBack !== true)
    c.fail(`${key}.phase`, "revert takes the way back, which needs migration.wayBack: true from before the cutover");
  // after the switch, the write pause does not grow with the data; without a way back, a mismatch
  // must be found before anything is dropped, so the verification stays in the pause
  const checksums = c.string(raw, "checksums", key, wayBack === false ? "in-pause" : "after-switch");
  if (checksums !== "in-pause" && checksums !== "after-switch")
    c.fail(`${key}.checksums`, `must be in-pause or after-switch (got ${JSON.stringify(checksums)})`);
  else if (checksums === "after-switch" && wayBack === false)
    c.fail(`${key}.checksums`, "after-switch needs migration.wayBack: true (a mismatch found after the switch goes back through it)");
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
  const withS3 =
    Array.isArray(raw.clusters) && raw.clusters.some((cl) => isObject(cl) && isObject(cl.backup) && cl.backup.s3 !== undefined);
  const secrets: string[] = [
    ...(withS3 ? S3_SECRET_KEYS : []),
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
  const confirm = raw.confirm === undefined || raw.confirm === null ? [] : raw.confirm;
  if (!Array.isArray(confirm) || confirm.some((x) => typeof x !== "string"))
    c.fail("confirm", 'must be a list of steps, e.g. ["leader main pg2", "rebuild main pg3", "cutover main appdb"]');
  if (c.problems.length > 0) throw new ConfigError(c.problems);
  return {
    clusters: migration?.wayBack ? withWayBackClient(clusters, migration) : clusters,
    ...(migration ? { migration } : {}),
    protect: raw.protect === true,
    confirm: Array.isArray(confirm) ? confirm.map(String) : [],
  };
}

/**
 * With a way back, the target cluster's pg_hba admits the source for that role and database
 * alone, and its WAL carries what logical decoding needs (wal_level logical: one restart).
 */
function withWayBackClient(clusters: ClusterSpec[], m: MigrationSpec): ClusterSpec[] {
  const client = { database: m.target.database, user: WAY_BACK_ROLE, address: hbaAddress(m.source.address) };
  return clusters.map((cl) => (cl.name === m.target.cluster ? { ...cl, logicalDecoding: true, clients: [...cl.clients, client] } : cl));
}
