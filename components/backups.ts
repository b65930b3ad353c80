import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { BackupSpec, ClusterSpec, HostSpec } from "../config";
import { BackupState, readBackupState } from "../observe/backups";
import {
  BackupPeer,
  BackupReaderKey,
  authorizedFrom,
  knownLine,
  renderBackupKeyScript,
  renderBackupMemberScript,
  renderRepositoryScript,
  renderStanzaScript,
} from "../render/backupScripts";
import {
  renderBackupService,
  renderBackupTimer,
  renderMemberConf,
  renderRepositoryConf,
  renderS3Credentials,
  s3CredentialsPath,
  timerUnit,
} from "../render/pgbackrest";
import { removeFileCommand, writeAsCommand } from "../render/sshCommands";
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
  /** The S3 repository's keys (secrets), and the CA of its certificate, when the cluster has one. */
  s3Credentials?: { key: pulumi.Input<string>; secret: pulumi.Input<string> };
  s3Ca?: string;
  /** The repository host's read-only accounts and their keys (backup.readers). */
  readerKeys: BackupReaderKey[];
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
            stanza: b.stanza,
            conf: memberConf,
            authorized: authorizedFrom(key, repo.address),
            known: knownLine(repoPeer),
            s3Ca: args.s3Ca,
          }),
        ),
        {},
        { parent: this },
      ),
    );
    const repositoryConf = renderRepositoryConf(spec, members, leader.name);
    const units = Object.fromEntries(
      (["full", "diff"] as const).flatMap((type) => [
        [`${timerUnit(b.stanza, type)}.service`, renderBackupService(b.stanza, type, repo.user, b.s3 ? 2 : 1)],
        [`${timerUnit(b.stanza, type)}.timer`, renderBackupTimer(b.stanza, type, b.schedule[type])],
      ]),
    );
    const repository = hostStep(
      `${name}-repository`,
      repoSsh,
      pulumi.all(memberKeys.map((k) => k.stdout)).apply((keys) =>
        renderRepositoryScript({
          host: repo.name,
          stanza: b.stanza,
          user: repo.user,
          path: repo.path,
          conf: repositoryConf,
          authorized: keys.map((k, i) => authorizedFrom(k, members[i].address)),
          known: members.map((h) => knownLine(peerOf(h))),
          units,
          s3Ca: args.s3Ca,
          readers: args.readerKeys,
        }),
      ),
      {},
      { parent: this },
    );
    // the S3 keys in a file of their own, never in a step's visible input. A member's step has no
    // delete command: a host marked down loses its steps, and a delete that must reach it would
    // fail the failover (the keys stay on it, as the replication passfile does)
    const credentials = args.s3Credentials
      ? pulumi.secret(
          pulumi.all([args.s3Credentials.key, args.s3Credentials.secret]).apply(([k, v]) => renderS3Credentials(b.stanza, k, v)),
        )
      : undefined;
    const credentialSteps = credentials
      ? [
          ...members.map((h, i) =>
            hostStep(
              `${name}-${h.name}-backup-s3-keys`,
              args.sshOf(h),
              credentials,
              {
                run: writeAsCommand("postgres", s3CredentialsPath(b.stanza)),
                secretStdin: true,
              },
              { parent: this, dependsOn: [memberSteps[i]] },
            ),
          ),
          hostStep(
            `${name}-repository-s3-keys`,
            repoSsh,
            credentials,
            {
              run: writeAsCommand(repo.user, s3CredentialsPath(b.stanza)),
              secretStdin: true,
              onDelete: removeFileCommand(s3CredentialsPath(b.stanza)),
            },
            { parent: this, dependsOn: [repository] },
          ),
        ]
      : [];
    // it runs again whenever the members, the leader or a side's configuration change
    const stanzaStep: command.remote.Command = hostStep(
      `${name}-stanza`,
      repoSsh,
      renderStanzaScript(
        repo.name,
        b.stanza,
        repo.user,
        `members ${members.map((h) => h.name).join(", ")}; leader ${leader.name}; ${hash(repositoryConf + memberConf)}`,
      ),
      {},
      { parent: this, dependsOn: [repository, ...memberSteps, ...credentialSteps, ...(args.after as pulumi.Resource[])] },
    );
    this.stanza = pulumi.output(b.stanza);
    const readState = args.readers?.backupState ?? readBackupState;
    // a preview changes nothing, so its read starts now, beside the engine's diff, not after it
    const early = pulumi.runtime.isDryRun() ? readState(spec, leader) : undefined;
    early?.catch(() => undefined); // a preview with changes never reads it
    this.state = pulumi.all([stanzaStep.stdout]).apply(() => early ?? readState(spec, leader));
    this.registerOutputs({ stanza: this.stanza, state: this.state });
  }
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);
