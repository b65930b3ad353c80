import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderApplyHostConfig } from "../render/hostScripts";
import { ROOT_CERT_COMMAND, passfileCommand } from "../render/sshCommands";
import { SshAccess, hostStep } from "./connection";

export interface HostConfigurationArgs {
  ssh: SshAccess;
  /** The host's name in config, for its messages. */
  host: string;
  /** The conf.d include this member gets (see render/postgresqlConf.ts). */
  postgresqlConf: pulumi.Input<string>;
  /** Its memory and CPU tuning include (see render/tuning.ts). */
  tuningConf: pulumi.Input<string>;
  /** The managed block at the top of its pg_hba.conf (see render/pgHba.ts). */
  hbaBlock: pulumi.Input<string>;
  /** The replication role's passfile line (a secret), so that the member can stream from any leader. */
  passfile: pulumi.Input<string>;
  passfilePath: string;
  /** Set when the host's passfile differed from the configured password at plan time. */
  passfileNote?: string;
  /** The CA certificate the member verifies the others with (libpq's ~/.postgresql/root.crt of postgres). */
  rootCert?: string;
}

/**
 * One member's PostgreSQL configuration, applied over SSH. The script is the resource's
 * input, so `pulumi preview --diff` shows exactly which lines a host would get. Its second
 * step, the settle pass, runs once the cluster's order allows it (settle()).
 */
export class HostConfiguration extends pulumi.ComponentResource {
  /** What the last apply did: "configuration unchanged", "reloaded …" or "restarting … for: …". */
  readonly report: pulumi.Output<string>;
  /**
   * What a later step waits for: the passfile and the apply, not the settle pass. (Depending on
   * the component would wait for all its children, the settle pass too, which itself comes after
   * the cluster's other steps: a cycle.)
   */
  readonly applied: pulumi.Resource[];
  private readonly baseName: string;
  private readonly ssh: SshAccess;
  private readonly files: pulumi.Output<[string, string, string]>;
  private readonly host: string;
  /** Where the settle step was created before it moved inside this component: its URN's parent. */
  private readonly formerParent?: pulumi.Resource;

  constructor(name: string, args: HostConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:host:HostConfiguration", name, {}, opts);
    this.baseName = name;
    this.ssh = args.ssh;
    this.host = args.host;
    this.formerParent = opts?.parent;
    this.files = pulumi.all([args.postgresqlConf, args.tuningConf, args.hbaBlock]);
    const script = this.files.apply(([postgresqlConf, tuningConf, hbaBlock]) =>
      renderApplyHostConfig({ host: args.host, postgresqlConf, tuningConf, hbaBlock }),
    );
    const passfile = hostStep(
      `${name}-passfile`,
      args.ssh,
      args.passfile,
      { run: passfileCommand(args.passfilePath, args.passfileNote), secretStdin: true },
      { parent: this },
    );
    const rootCert = args.rootCert
      ? [hostStep(`${name}-root-cert`, args.ssh, args.rootCert, { run: ROOT_CERT_COMMAND }, { parent: this })]
      : [];
    const apply = hostStep(`${name}-apply`, args.ssh, script, {}, { parent: this, dependsOn: [passfile, ...rootCert] });
    this.report = apply.stdout;
    this.applied = [passfile, ...rootCert, apply];
    this.registerOutputs({ report: this.report });
  }

  /**
   * The settle pass: the configuration once more, after `after`, to lower what a standby had to
   * hold at its leader's value while the leader still ran with it.
   */
  settle(after: pulumi.Resource[]): command.remote.Command {
    const script = this.files.apply(([postgresqlConf, tuningConf, hbaBlock]) =>
      renderApplyHostConfig({ host: this.host, postgresqlConf, tuningConf, hbaBlock, settle: true }),
    );
    return hostStep(
      `${this.baseName}-settle`,
      this.ssh,
      script,
      {},
      // it was the cluster's child: the alias keeps its URN, so a deployed stack updates it in place
      { parent: this, dependsOn: after, ...(this.formerParent ? { aliases: [{ parent: this.formerParent }] } : {}) },
    );
  }
}
