// How the backup make targets reach a stack's repository host and leader: the `backups` output
// (written by every `up`) names them, and the deploy user's SSH access of the stack's config.
import { execFileSync } from "node:child_process";
import { BackupSpec, ClusterSpec, HostSpec } from "../config";
import { BackupState, sshRun } from "../observe/backups";
import { sqlLiteral } from "../render/quote";
import { sqlAsPostgres } from "../render/sshCommands";

export interface BackupAccess {
  stanza: string;
  repository: { name: string; address: string; sshPort: number; user: string; path: string };
  leader: { name: string; address: string; sshPort: number };
  ssh: { user: string; knownHostsPath?: string; privateKeyPath?: string };
  state: BackupState;
}

export function readBackupAccess(stack: string, cluster?: string): BackupAccess {
  let raw: string;
  try {
    raw = execFileSync("pulumi", ["stack", "output", "backups", "--json", "--stack", stack], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    throw new Error(
      `stack ${stack} has no backups output: run \`pulumi up\` with clusters[].backup set (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const all = JSON.parse(raw || "{}") as Record<string, BackupAccess>;
  const names = Object.keys(all);
  if (names.length === 0) throw new Error(`stack ${stack} declares no backups (clusters[].backup)`);
  const name = cluster ?? names[0];
  if (!all[name]) throw new Error(`stack ${stack} has no backups for cluster ${name} (clusters with backups: ${names.join(", ")})`);
  if (!cluster && names.length > 1) throw new Error(`stack ${stack} has backups for ${names.join(", ")}: say which with CLUSTER=`);
  return all[name];
}

/** Enough of a ClusterSpec for observe/'s SSH and backup readers. */
export function accessSpec(a: BackupAccess): ClusterSpec & { backup: BackupSpec } {
  return {
    name: a.stanza,
    leader: a.leader.name,
    hosts: [{ name: a.leader.name, address: a.leader.address, sshPort: a.leader.sshPort }],
    port: 5432,
    sslmode: "require",
    ssh: { user: a.ssh.user, knownHostsPath: a.ssh.knownHostsPath, privateKeyPath: a.ssh.privateKeyPath },
    adminAddresses: [],
    clients: [],
    settings: {},
    tuning: false,
    backup: {
      stanza: a.stanza,
      repository: { ...a.repository },
      readers: [],
      retention: { full: 1, diff: 1 },
      schedule: { full: "", diff: "" },
      compression: "lz4",
      processMax: 1,
      walQueueMax: "1GB",
      fromStandby: true,
      standbyRebuild: "copy",
    },
  };
}

export const leaderHost = (a: BackupAccess): HostSpec => ({ ...a.leader });
export const repositoryHost = (a: BackupAccess): HostSpec => ({
  name: a.repository.name,
  address: a.repository.address,
  sshPort: a.repository.sshPort,
});

const leaderSql = (sql: string) => sqlAsPostgres("postgres", sql);

/**
 * The leader commits a transaction of its own (a commit record: recovery to a time after the last
 * change then has a record past its target to stop at), switches to a new WAL segment, and the one
 * it closed reaches the repository (60 s at most).
 */
export async function archiveNow(spec: ClusterSpec, leader: HostSpec): Promise<void> {
  const marked = await sshRun(spec, leader, leaderSql("select pg_current_xact_id()"));
  if (marked.code !== 0) throw new Error(`writing on ${leader.name} failed: ${marked.err.trim().split("\n").pop()}`);
  const switched = await sshRun(spec, leader, leaderSql("select pg_walfile_name(pg_switch_wal())"));
  if (switched.code !== 0) throw new Error(`switching WAL on ${leader.name} failed: ${switched.err.trim().split("\n").pop()}`);
  const segment = switched.out.trim();
  for (let i = 0; ; i++) {
    const done = await sshRun(
      spec,
      leader,
      leaderSql(`select coalesce(last_archived_wal, '') >= ${sqlLiteral(segment)} from pg_stat_archiver`),
    );
    if (done.out.trim() === "t") return;
    if (i >= 60) throw new Error(`WAL segment ${segment} did not reach the repository within 60 s: see make status (archiving)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
