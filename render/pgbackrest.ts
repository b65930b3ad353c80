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

/** The archive_command and restore_command every member gets (restore_command: a standby whose leader recycled WAL it needs). */
export function archiveSettings(stanza: string): Record<string, string> {
  return {
    archive_mode: "on",
    archive_command: `pgbackrest --stanza=${stanza} archive-push %p`,
    restore_command: `pgbackrest --stanza=${stanza} archive-get %f "%p"`,
  };
}

function render(stanza: string, options: Record<string, string | number>): string {
  const lines = Object.keys(options)
    .sort()
    .map((k) => `${k}=${options[k]}`);
  return [`# Managed by pg-replication (Pulumi), stanza ${stanza}. Edits are overwritten.`, `[${stanza}]`, ...lines, ""].join("\n");
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
  return render(cluster.name, {
    ...common(b),
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
  return render(cluster.name, {
    ...common(b),
    ...hosts,
    "backup-standby": b.fromStandby && members.length > 1 ? "y" : "n",
    "repo1-retention-diff": b.retention.diff,
    "repo1-retention-full": b.retention.full,
    "start-fast": "y",
  });
}

export const timerUnit = (stanza: string, type: "full" | "diff") => `pg-replication-backup-${stanza}-${type}`;

/** The command a scheduled backup runs: `make backup` runs the very same line. */
export const backupCommand = (stanza: string, type: "full" | "diff" | "incr") =>
  `/usr/bin/pgbackrest --stanza=${stanza} --type=${type} backup`;

export function renderBackupService(stanza: string, type: "full" | "diff", user: string): string {
  return [
    "# Managed by pg-replication (Pulumi). Edits are overwritten.",
    "[Unit]",
    `Description=pgBackRest ${type} backup of stanza ${stanza}`,
    "After=network-online.target",
    "",
    "[Service]",
    "Type=oneshot",
    `User=${user}`,
    `ExecStart=${backupCommand(stanza, type)}`,
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
