// What pgBackRest reads on each side: a member's include (its data directory, the repository
// host, asynchronous archiving with a bound on the queue) and the repository host's include
// (every member, retention, compression). Each cluster is one stanza in a file of its own under
// conf.d, so that a repository host can keep the backups of several clusters.
import { BackupSpec, ClusterSpec, HostSpec } from "../config";
import { DATA_DIR } from "../postgres15";

export const PGBACKREST_CONF_DIR = "/etc/pgbackrest/conf.d";
export const SPOOL_PATH = "/var/spool/pgbackrest";
/** Seconds a WAL push, `check` or the start of a backup waits for the archive before failing. */
const ARCHIVE_TIMEOUT = 30;

export const stanzaConfPath = (stanza: string) => `${PGBACKREST_CONF_DIR}/${stanza}.conf`;

/**
 * What every member gets to archive its WAL. No restore_command: a standby reading the archive
 * would follow the newest timeline it finds there, and a member promoted by hand (or a diverged
 * former leader) may have archived one that is not the leader's; a standby whose leader recycled
 * WAL it needs is rebuilt instead (host/standby.sh).
 */
export function archiveSettings(stanza: string): Record<string, string> {
  return {
    archive_mode: "on",
    archive_command: `pgbackrest --stanza=${stanza} archive-push %p`,
  };
}

function render(stanza: string, options: Record<string, string | number>): string {
  const lines = Object.keys(options)
    .sort()
    .map((k) => `${k}=${options[k]}`);
  return [`# Managed by pg-replication (Pulumi), stanza ${stanza}. Edits are overwritten.`, `[${stanza}]`, ...lines, ""].join("\n");
}

export const s3CaPath = (stanza: string) => `/etc/pgbackrest/${stanza}-s3-ca.crt`;
export const s3CredentialsPath = (stanza: string) => `${PGBACKREST_CONF_DIR}/${stanza}-s3-credentials.conf`;

/** The second repository's options, but its keys (in their own file: s3Credentials). */
function s3Options(stanza: string, b: BackupSpec): Record<string, string | number> {
  const s3 = b.s3;
  if (!s3) return {};
  return {
    "repo2-type": "s3",
    "repo2-path": s3.path,
    "repo2-s3-bucket": s3.bucket,
    "repo2-s3-endpoint": s3.endpoint,
    ...(s3.port === 443 ? {} : { "repo2-storage-port": s3.port }),
    "repo2-s3-region": s3.region,
    "repo2-s3-uri-style": s3.uriStyle,
    ...(s3.caFile ? { "repo2-storage-ca-file": s3CaPath(stanza) } : {}),
  };
}

/** The S3 keys, a file of their own readable by the user pgBackRest runs as alone. */
export function renderS3Credentials(stanza: string, key: string, secret: string): string {
  for (const v of [key, secret]) if (/[\r\n]/.test(v)) throw new Error("an S3 key must be one line");
  return `[${stanza}]\nrepo2-s3-key=${key}\nrepo2-s3-key-secret=${secret}\n`;
}

const common = (b: BackupSpec) => ({
  "archive-timeout": ARCHIVE_TIMEOUT,
  "compress-type": b.compression,
  "log-level-console": "warn",
  "log-level-file": "info",
  "process-max": b.processMax,
  "repo1-path": b.repository.path,
});

export function renderMemberConf(cluster: ClusterSpec & { backup: BackupSpec }): string {
  const b = cluster.backup;
  return render(cluster.backup.stanza, {
    ...common(b),
    ...s3Options(cluster.backup.stanza, b),
    "archive-async": "y",
    "archive-push-queue-max": b.walQueueMax,
    "pg1-path": DATA_DIR,
    "pg1-port": cluster.port,
    "repo1-host": b.repository.address,
    "repo1-host-port": b.repository.sshPort,
    "repo1-host-user": b.repository.user,
    "spool-path": SPOOL_PATH,
  });
}

/** The leader is pg1; backups come from a standby when one streams (`backup-standby`). */
export function renderRepositoryConf(cluster: ClusterSpec & { backup: BackupSpec }, members: HostSpec[], leader: string): string {
  const b = cluster.backup;
  const ordered = [...members].sort((x, y) => Number(y.name === leader) - Number(x.name === leader));
  const hosts = Object.fromEntries(
    ordered.flatMap((h, i) => [
      [`pg${i + 1}-host`, h.address],
      [`pg${i + 1}-host-port`, h.sshPort],
      [`pg${i + 1}-host-user`, "postgres"],
      [`pg${i + 1}-path`, DATA_DIR],
      [`pg${i + 1}-port`, cluster.port],
    ]),
  );
  return render(cluster.backup.stanza, {
    ...common(b),
    ...s3Options(cluster.backup.stanza, b),
    ...(b.s3 ? { "repo2-retention-diff": b.retention.diff, "repo2-retention-full": b.retention.full } : {}),
    ...hosts,
    "backup-standby": b.fromStandby && members.length > 1 ? "y" : "n",
    "repo1-retention-diff": b.retention.diff,
    "repo1-retention-full": b.retention.full,
    "start-fast": "y",
  });
}

export const timerUnit = (stanza: string, type: "full" | "diff") => `pg-replication-backup-${stanza}-${type}`;

/** The command a scheduled backup runs for one repository: `make backup` runs the very same lines. */
export const backupCommand = (stanza: string, type: "full" | "diff" | "incr", repo: number) =>
  `/usr/bin/pgbackrest --stanza=${stanza} --type=${type} --repo=${repo} backup`;

/** A backup of each repository, one after the other. */
export function renderBackupService(stanza: string, type: "full" | "diff", user: string, repos: number): string {
  return [
    "# Managed by pg-replication (Pulumi). Edits are overwritten.",
    "[Unit]",
    `Description=pgBackRest ${type} backup of stanza ${stanza}`,
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `User=${user}`,
    ...Array.from({ length: repos }, (_, i) => `ExecStart=${backupCommand(stanza, type, i + 1)}`),
    "",
  ].join("\n");
}

export function renderBackupTimer(stanza: string, type: "full" | "diff", calendar: string): string {
  return [
    "# Managed by pg-replication (Pulumi). Edits are overwritten.",
    "[Unit]",
    `Description=Scheduled pgBackRest ${type} backup of stanza ${stanza}`,
    "",
    "[Timer]",
    `OnCalendar=${calendar}`,
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}
