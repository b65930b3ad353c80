import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { BackupSpec, ClusterSpec, HostSpec } from "../config";
import { BackupState, readBackupState } from "../observe/backups";
import {
  BackupPeer,
  authorizedFrom,
  knownLine,
  renderBackupKeyScript,
  renderBackupMemberScript,
  renderRepositoryScript,
  renderStanzaScript,
} from "../render/backupScripts";
import { renderBackupService, renderBackupTimer, renderMemberConf, renderRepositoryConf, timerUnit } from "../render/pgbackrest";
import { SshAccess, hostStep } from "./connection";

export interface ClusterBackupsArgs {
  spec: ClusterSpec & { backup: BackupSpec };
  /** The live members, the leader among them. */
  members: HostSpec[];
  leader: HostSpec;
  sshOf: (host: HostSpec) => SshAccess;
  /** Each member's SSH host key by host name, and the repository host's: pinned on the other side. */
  hostKeys: Record<string, string>;
  repositoryHostKey: string;
  privateKey?: pulumi.Input<string>;
  /** What the stanza's check waits for: the members configured (archive_command) and streaming. */
  after: pulumi.Input<pulumi.Resource>[];
  readers?: { backupState?: typeof readBackupState };
}

/**
 * A cluster's backups with pgBackRest: one stanza on a repository host reached over SSH, WAL
 * archived from every member (a promoted standby keeps archiving), backups taken from a standby,
 * scheduled by systemd timers on the repository host. Each side's key is made on its host and
 * allowed on the other side from that host's address only.
 */
export class ClusterBackups extends pulumi.ComponentResource {
  readonly state: pulumi.Output<BackupState>;
  readonly stanza: pulumi.Output<string>;

  constructor(name: string, args: ClusterBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:backup:ClusterBackups", name, {}, opts);
    const { spec, members, leader } = args;
    const b = spec.backup;
    const repo = b.repository;
    const repoSsh: SshAccess = {
      address: repo.address,
      port: repo.sshPort,
      user: spec.ssh.user,
      privateKey: args.privateKey,
      hostKey: args.repositoryHostKey,
    };
    const repoPeer: BackupPeer = { address: repo.address, sshPort: repo.sshPort, hostKey: args.repositoryHostKey };
    const peerOf = (h: HostSpec): BackupPeer => ({ address: h.address, sshPort: h.sshPort, hostKey: args.hostKeys[h.name] });

    const repoKey = hostStep(`${name}-repository-key`, repoSsh, renderBackupKeyScript(repo.name, repo.user), {}, { parent: this });
    const memberKeys = members.map((h) =>
      hostStep(`${name}-${h.name}-backup-key`, args.sshOf(h), renderBackupKeyScript(h.name, "postgres"), {}, { parent: this }),
    );
    const memberConf = renderMemberConf(spec);
    const memberSteps = members.map((h) =>
      hostStep(
        `${name}-${h.name}-backup`,
        args.sshOf(h),
        repoKey.stdout.apply((key) =>
          renderBackupMemberScript({
            host: h.name,
            stanza: spec.name,
            conf: memberConf,
            authorized: authorizedFrom(key, repo.address),
            known: knownLine(repoPeer),
          }),
        ),
        {},
        { parent: this },
      ),
    );
    const repositoryConf = renderRepositoryConf(spec, members, leader.name);
    const units = Object.fromEntries(
      (["full", "diff"] as const).flatMap((type) => [
        [`${timerUnit(spec.name, type)}.service`, renderBackupService(spec.name, type, repo.user)],
        [`${timerUnit(spec.name, type)}.timer`, renderBackupTimer(spec.name, type, b.schedule[type])],
      ]),
    );
    const repository = hostStep(
      `${name}-repository`,
      repoSsh,
      pulumi.all(memberKeys.map((k) => k.stdout)).apply((keys) =>
        renderRepositoryScript({
          host: repo.name,
          stanza: spec.name,
          user: repo.user,
          path: repo.path,
          conf: repositoryConf,
          authorized: keys.map((k, i) => authorizedFrom(k, members[i].address)),
          known: members.map((h) => knownLine(peerOf(h))),
          units,
        }),
      ),
      {},
      { parent: this },
    );
    // it runs again whenever the members, the leader or a side's configuration change
    const stanzaStep: command.remote.Command = hostStep(
      `${name}-stanza`,
      repoSsh,
      renderStanzaScript(
        repo.name,
        spec.name,
        repo.user,
        `members ${members.map((h) => h.name).join(", ")}; leader ${leader.name}; ${hash(repositoryConf + memberConf)}`,
      ),
      {},
      { parent: this, dependsOn: [repository, ...memberSteps, ...(args.after as pulumi.Resource[])] },
    );
    this.stanza = pulumi.output(spec.name);
    this.state = pulumi.all([stanzaStep.stdout]).apply(() => (args.readers?.backupState ?? readBackupState)(spec, leader));
    this.registerOutputs({ stanza: this.stanza, state: this.state });
  }
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);
