// How the backup make targets reach a stack's repository host and leader: the `backups` output
// (written by every `up`) names them, and the deploy user's SSH access of the stack's config.
import { execFileSync } from "node:child_process";
import { BackupSpec, ClusterSpec, HostSpec } from "../config";
import { BackupState } from "../observe/backups";

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
      repository: { ...a.repository },
      retention: { full: 1, diff: 1 },
      schedule: { full: "", diff: "" },
      compression: "lz4",
      processMax: 1,
      walQueueMax: "1GB",
      fromStandby: true,
    },
  };
}

export const leaderHost = (a: BackupAccess): HostSpec => ({ ...a.leader });
export const repositoryHost = (a: BackupAccess): HostSpec => ({
  name: a.repository.name,
  address: a.repository.address,
  sshPort: a.repository.sshPort,
});
