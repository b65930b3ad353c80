// The `backup` section of a cluster: pgBackRest repositories, retention, schedule and the
// knobs a small team may turn. Pure, like the rest of config/: every mistake under its key.
import { Checker, isObject } from "./check";
import { BackupReaderSpec, BackupSpec, RepoHostSpec, S3RepoSpec } from "./spec";

const BACKUP_KEYS = [
  "stanza",
  "readers",
  "repository",
  "s3",
  "retention",
  "schedule",
  "compression",
  "processMax",
  "walQueueMax",
  "fromStandby",
  "standbyRebuild",
];
const REPOSITORY_KEYS = ["host", "address", "sshPort", "user", "path"];
const S3_KEYS = ["endpoint", "port", "bucket", "region", "uriStyle", "path", "caFile"];
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z0-9-]{1,32}$/;
const RETENTION_KEYS = ["full", "diff"];
const SCHEDULE_KEYS = ["full", "diff"];
export const COMPRESSIONS = ["lz4", "zst", "gz", "bz2", "none"] as const;
/** pgBackRest's size syntax: a number and a unit of 1024s. */
const SIZE = /^[1-9][0-9]*(KB|MB|GB|TB)$/;
/** A systemd OnCalendar expression: letters, digits and the punctuation calendar events use. */
const CALENDAR = /^[A-Za-z0-9 *:,./~-]{1,80}$/;
const REPO_PATH = /^\/[A-Za-z0-9._/-]*$/;
const STANZA = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;
/** A reader's account is pgr-read-<name>: a Unix user name of at most 32 characters. */
const READER = /^[a-z][a-z0-9-]{0,22}$/;
const READER_KEYS = ["name", "publicKeyPath"];
const PUBLIC_KEY_PATH = /^\/[A-Za-z0-9._/-]*$/;

export const BACKUP_DEFAULTS = {
  path: "/var/lib/pgbackrest",
  user: "postgres",
  retention: { full: 2, diff: 6 },
  // a full backup on Sunday night, a differential every other night (the repository host's time)
  schedule: { full: "Sun *-*-* 01:00:00", diff: "Mon..Sat *-*-* 01:00:00" },
  compression: "lz4" as const,
  processMax: 2,
  walQueueMax: "4GB",
};

function count(c: Checker, raw: Record<string, unknown>, field: string, key: string, fallback: number, max: number): number {
  const v = raw[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
    c.fail(`${key}.${field}`, `must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
    return fallback;
  }
  return v;
}

function parseRepository(c: Checker, raw: unknown, key: string): RepoHostSpec {
  if (!isObject(raw)) {
    c.fail(key, "is required: {host, address} of the repository host (reached over SSH like the members)");
    return { name: "", address: "", sshPort: 22, user: BACKUP_DEFAULTS.user, path: BACKUP_DEFAULTS.path };
  }
  c.knownKeys(raw, REPOSITORY_KEYS, key);
  const name = c.name(raw, "host", key);
  const address = c.address(raw, "address", key);
  const user = c.string(raw, "user", key, BACKUP_DEFAULTS.user);
  if (user) c.unixUser(user, `${key}.user`);
  const path = c.string(raw, "path", key, BACKUP_DEFAULTS.path);
  if (path && (!REPO_PATH.test(path) || path.split("/").includes("..") || path === "/"))
    c.fail(`${key}.path`, `must be an absolute path of letters, digits and . _ - / (got ${JSON.stringify(path)})`);
  return { name, address, sshPort: c.port(raw, "sshPort", key, 22), user, path };
}

function parseS3(c: Checker, raw: unknown, key: string): S3RepoSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    c.fail(key, "must be {endpoint, bucket, region}, with the keys in pg-replication:backupS3Key and backupS3Secret");
    return undefined;
  }
  c.knownKeys(raw, S3_KEYS, key);
  const bucket = c.string(raw, "bucket", key);
  if (bucket && !BUCKET.test(bucket)) c.fail(`${key}.bucket`, `is not an S3 bucket name: ${JSON.stringify(bucket)}`);
  const region = c.string(raw, "region", key, "us-east-1");
  if (region && !REGION.test(region)) c.fail(`${key}.region`, `is not a region name: ${JSON.stringify(region)}`);
  const uriStyle = c.string(raw, "uriStyle", key, "path");
  if (uriStyle !== "path" && uriStyle !== "host") c.fail(`${key}.uriStyle`, "must be path or host");
  const path = c.string(raw, "path", key, "/pgbackrest");
  if (path && (!REPO_PATH.test(path) || path.split("/").includes("..")))
    c.fail(`${key}.path`, `must be an absolute path of letters, digits and . _ - / (got ${JSON.stringify(path)})`);
  const caFile = c.string(raw, "caFile", key, "") || undefined;
  return {
    endpoint: c.address(raw, "endpoint", key),
    port: c.port(raw, "port", key, 443),
    bucket,
    region,
    uriStyle: uriStyle === "host" ? "host" : "path",
    path,
    ...(caFile ? { caFile } : {}),
  };
}

function parseReaders(c: Checker, raw: unknown, key: string): BackupReaderSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    c.fail(key, "must be a list of {name, publicKeyPath}: the stacks that refresh from these backups");
    return [];
  }
  const readers = raw.map((r, i): BackupReaderSpec => {
    const at = `${key}[${i}]`;
    if (!isObject(r)) {
      c.fail(at, "must be {name, publicKeyPath}");
      return { name: "", publicKeyPath: "" };
    }
    c.knownKeys(r, READER_KEYS, at);
    const name = c.string(r, "name", at);
    if (name && !READER.test(name))
      c.fail(`${at}.name`, `must be a stack name of lowercase letters, digits and - (at most 23), got ${JSON.stringify(name)}`);
    const publicKeyPath = c.string(r, "publicKeyPath", at);
    if (publicKeyPath && (!PUBLIC_KEY_PATH.test(publicKeyPath) || publicKeyPath.split("/").includes("..")))
      c.fail(`${at}.publicKeyPath`, `must be an absolute path of letters, digits and . _ - / (got ${JSON.stringify(publicKeyPath)})`);
    return { name, publicKeyPath };
  });
  const seen = new Set<string>();
  readers.forEach((r, i) => {
    if (r.name && seen.has(r.name)) c.fail(`${key}[${i}].name`, `${r.name} is listed twice`);
    seen.add(r.name);
  });
  return readers;
}

export function parseBackup(c: Checker, raw: unknown, key: string, cluster: string): BackupSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    c.fail(key, "must be an object with at least repository: {host, address}");
    return undefined;
  }
  c.knownKeys(raw, BACKUP_KEYS, key);
  const repository = parseRepository(c, raw.repository, `${key}.repository`);
  const s3 = parseS3(c, raw.s3, `${key}.s3`);
  const retentionRaw = isObject(raw.retention) ? raw.retention : {};
  if (raw.retention !== undefined && !isObject(raw.retention)) c.fail(`${key}.retention`, "must be {full, diff}");
  c.knownKeys(retentionRaw, RETENTION_KEYS, `${key}.retention`);
  const scheduleRaw = isObject(raw.schedule) ? raw.schedule : {};
  if (raw.schedule !== undefined && !isObject(raw.schedule)) c.fail(`${key}.schedule`, "must be {full, diff} (systemd calendar events)");
  c.knownKeys(scheduleRaw, SCHEDULE_KEYS, `${key}.schedule`);
  const calendar = (field: "full" | "diff") => {
    const v = c.string(scheduleRaw, field, `${key}.schedule`, BACKUP_DEFAULTS.schedule[field]);
    if (v && !CALENDAR.test(v))
      c.fail(`${key}.schedule.${field}`, `is not a systemd calendar event such as "Sun *-*-* 01:00:00": ${JSON.stringify(v)}`);
    return v;
  };
  const compression = c.string(raw, "compression", key, BACKUP_DEFAULTS.compression);
  if (!(COMPRESSIONS as readonly string[]).includes(compression))
    c.fail(`${key}.compression`, `must be one of ${COMPRESSIONS.join(", ")} (got ${JSON.stringify(compression)})`);
  const walQueueMax = c.string(raw, "walQueueMax", key, BACKUP_DEFAULTS.walQueueMax);
  if (walQueueMax && !SIZE.test(walQueueMax))
    c.fail(`${key}.walQueueMax`, `must be a size such as 4GB (KB, MB, GB or TB), got ${JSON.stringify(walQueueMax)}`);
  const fromStandby = raw.fromStandby ?? true;
  if (typeof fromStandby !== "boolean") c.fail(`${key}.fromStandby`, "must be true or false");
  const standbyRebuild = c.string(raw, "standbyRebuild", key, "copy");
  if (standbyRebuild !== "copy" && standbyRebuild !== "delta")
    c.fail(
      `${key}.standbyRebuild`,
      `must be copy (pg_basebackup from the leader) or delta (pgbackrest restore --delta from the backups), got ${JSON.stringify(standbyRebuild)}`,
    );
  const stanza = c.string(raw, "stanza", key, cluster);
  if (stanza && !STANZA.test(stanza))
    c.fail(`${key}.stanza`, `must be letters, digits, _ and - (at most 63, a letter or digit first), got ${JSON.stringify(stanza)}`);
  return {
    stanza,
    repository,
    readers: parseReaders(c, raw.readers, `${key}.readers`),
    ...(s3 ? { s3 } : {}),
    retention: {
      full: count(c, retentionRaw, "full", `${key}.retention`, BACKUP_DEFAULTS.retention.full, 99),
      diff: count(c, retentionRaw, "diff", `${key}.retention`, BACKUP_DEFAULTS.retention.diff, 999),
    },
    schedule: { full: calendar("full"), diff: calendar("diff") },
    compression: compression as BackupSpec["compression"],
    processMax: count(c, raw, "processMax", key, BACKUP_DEFAULTS.processMax, 32),
    walQueueMax,
    fromStandby: fromStandby !== false,
    standbyRebuild: standbyRebuild === "delta" ? "delta" : "copy",
  };
}
