// A cluster's recovery window as pgBackRest and the leader report it: the last backups, the
// archived WAL range, the earliest and latest moment a restore can reach, and whether archiving
// works (and since when it does not, with pgBackRest's own reason). Read over SSH with the deploy
// user: `pgbackrest info --output=json` on the repository host, pg_stat_archiver on the leader.
import { spawn } from "node:child_process";
import { BackupSpec, ClusterSpec, HostSpec } from "../config";
import { SPOOL_PATH } from "../render/pgbackrest";
import { shellQuote } from "../render/quote";
import { sshArgs } from "./hosts";

export interface BackupRecord {
  label: string;
  type: string;
  start: string;
  stop: string;
  durationSeconds: number;
  sizeBytes: number;
  repositoryBytes: number;
}

export interface ArchivingState {
  healthy: boolean;
  lastArchivedWal?: string;
  lastArchived?: string;
  lastFailed?: string;
  /** Failing: nothing archived since this moment, and pgBackRest's reason. */
  failingSince?: string;
  reason?: string;
}

export interface BackupState {
  stanza: string;
  repository: string;
  /** pgBackRest's stanza status ("ok", or its message), or why the repository could not be read. */
  status: string;
  backups: BackupRecord[];
  wal?: { min: string; max: string };
  /** The earliest moment a restore reaches: the end of the oldest backup. */
  earliest?: string;
  /** The latest: the last WAL segment archived. */
  latest?: string;
  archiving: ArchivingState;
}

export interface SshResult {
  code: number;
  out: string;
  err: string;
}

/** One command over SSH, bounded in time; never rejects (an SSH failure is code 255 and its reason). */
export function sshRun(
  cluster: ClusterSpec,
  host: Pick<HostSpec, "name" | "address" | "sshPort">,
  command: string,
  timeoutMs = 30_000,
  stdin?: string,
): Promise<SshResult> {
  return new Promise((resolve) => {
    const child = spawn("ssh", [...sshArgs(cluster, host as HostSpec), command], {
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      err += `no answer from ${host.name} within ${timeoutMs / 1000} s`;
    }, timeoutMs);
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    if (stdin !== undefined) child.stdin!.end(stdin);
    child.on("error", (e) => (err += e.message));
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, out, err });
    });
  });
}

const iso = (epochSeconds: number | undefined) => (epochSeconds ? new Date(epochSeconds * 1000).toISOString() : undefined);
const lastLine = (text: string) => text.trim().split("\n").filter(Boolean).pop() ?? "";

interface InfoJson {
  name: string;
  status: { code: number; message: string };
  backup?: {
    label: string;
    type: string;
    timestamp: { start: number; stop: number };
    info: { size: number; repository: { size: number } };
  }[];
  archive?: { min: string | null; max: string | null }[];
}

/** pgBackRest's `info --output=json` for one stanza, into the window's backups and WAL range. */
export function parseInfo(json: string, stanza: string): Pick<BackupState, "status" | "backups" | "wal" | "earliest"> {
  const all = JSON.parse(json) as InfoJson[];
  const info = all.find((s) => s.name === stanza);
  if (!info) return { status: `no stanza ${stanza} in the repository`, backups: [] };
  const backups = (info.backup ?? []).map((b) => ({
    label: b.label,
    type: b.type,
    start: iso(b.timestamp.start)!,
    stop: iso(b.timestamp.stop)!,
    durationSeconds: b.timestamp.stop - b.timestamp.start,
    sizeBytes: b.info.size,
    repositoryBytes: b.info.repository.size,
  }));
  const mins = (info.archive ?? []).map((a) => a.min).filter((x): x is string => !!x);
  const maxs = (info.archive ?? []).map((a) => a.max).filter((x): x is string => !!x);
  return {
    status: info.status.code === 0 ? "ok" : info.status.message,
    backups: backups.slice(-5),
    ...(mins.length > 0 ? { wal: { min: mins.sort()[0], max: maxs.sort().pop()! } } : {}),
    ...(backups.length > 0 ? { earliest: backups[0].stop } : {}),
  };
}

/** pg_stat_archiver's line ("archived_wal|archived_time|failed_wal|failed_time", epoch seconds) and the spool's error text. */
export function parseArchiver(line: string, spoolError: string): ArchivingState {
  const [archivedWal, archivedAt, , failedAt] = line.trim().split("|");
  const lastArchived = archivedAt ? iso(Number(archivedAt)) : undefined;
  const lastFailed = failedAt ? iso(Number(failedAt)) : undefined;
  const failing = !!failedAt && (!archivedAt || Number(failedAt) > Number(archivedAt));
  return {
    healthy: !failing,
    ...(archivedWal ? { lastArchivedWal: archivedWal } : {}),
    ...(lastArchived ? { lastArchived } : {}),
    ...(lastFailed ? { lastFailed } : {}),
    ...(failing
      ? {
          failingSince: lastArchived ?? "the first WAL segment",
          reason: lastLine(spoolError) || "see pg_stat_archiver and /var/log/pgbackrest",
        }
      : {}),
  };
}

const ARCHIVER_QUERY =
  "select coalesce(last_archived_wal, ''), coalesce(extract(epoch from last_archived_time)::bigint::text, ''), coalesce(last_failed_wal, ''), coalesce(extract(epoch from last_failed_time)::bigint::text, '') from pg_stat_archiver";

export async function readBackupState(cluster: ClusterSpec & { backup: BackupSpec }, leader: HostSpec): Promise<BackupState> {
  const repo = cluster.backup.repository;
  const stanza = cluster.backup.stanza;
  const repoHost = { name: repo.name, address: repo.address, sshPort: repo.sshPort };
  const [info, archiver] = await Promise.all([
    sshRun(cluster, repoHost, `cd / && sudo -n -u ${shellQuote(repo.user)} pgbackrest --stanza=${shellQuote(stanza)} --output=json info`),
    sshRun(
      cluster,
      leader,
      `cd / && sudo -n -u postgres psql -X -A -t -q -d postgres -c ${shellQuote(ARCHIVER_QUERY)} && echo '--' && ` +
        `sudo -n -u postgres sh -c ${shellQuote(`cat ${SPOOL_PATH}/archive/${stanza}/out/*.error 2>/dev/null | tail -n 3`)}`,
    ),
  ]);
  const [archiverLine, spoolError] = archiver.out.split("\n--\n");
  const archiving: ArchivingState =
    archiver.code === 0
      ? parseArchiver(archiverLine, spoolError ?? "")
      : { healthy: false, reason: `the leader ${leader.name} could not be read: ${lastLine(archiver.err)}` };
  let window: Pick<BackupState, "status" | "backups" | "wal" | "earliest">;
  if (info.code !== 0)
    window = { status: `repository host ${repo.name} could not be read: ${lastLine(info.err) || `exit ${info.code}`}`, backups: [] };
  else {
    try {
      window = parseInfo(info.out, stanza);
    } catch (e) {
      window = { status: `pgbackrest info printed no JSON: ${(e as Error).message}`, backups: [] };
    }
  }
  return {
    stanza,
    repository: `${repo.name} (${repo.address}:${repo.path})`,
    ...window,
    ...(window.backups.length > 0 && archiving.lastArchived ? { latest: archiving.lastArchived } : {}),
    archiving,
  };
}
