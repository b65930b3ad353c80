import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderApplyHostConfig } from "../render/hostScripts";
import { passfileCommand } from "../render/sshCommands";
import { SshAccess, hostStep, sshConnection } from "./connection";

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
}

/**
 * One member's PostgreSQL configuration, applied over SSH. The script is the resource's
 * input, so `pulumi preview --diff` shows exactly which lines a host would get.
 */
export class HostConfiguration extends pulumi.ComponentResource {
  /** What the last apply did: "configuration unchanged", "reloaded …" or "restarting … for: …". */
  readonly report: pulumi.Output<string>;
  readonly script: pulumi.Output<string>;
  /** The same, for the settle pass after the leader's step. */
  readonly settleScript: pulumi.Output<string>;
  readonly ssh: SshAccess;

  constructor(name: string, args: HostConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:host:HostConfiguration", name, {}, opts);
    this.ssh = args.ssh;
    const files = pulumi.all([args.postgresqlConf, args.tuningConf, args.hbaBlock]);
    this.script = files.apply(([postgresqlConf, tuningConf, hbaBlock]) =>
      renderApplyHostConfig({ host: args.host, postgresqlConf, tuningConf, hbaBlock }),
    );
    this.settleScript = files.apply(([postgresqlConf, tuningConf, hbaBlock]) =>
      renderApplyHostConfig({ host: args.host, postgresqlConf, tuningConf, hbaBlock, settle: true }),
    );
    const passfile = new command.remote.Command(
      `${name}-passfile`,
      {
        connection: sshConnection(args.ssh),
        create: passfileCommand(args.passfilePath, args.passfileNote),
        stdin: pulumi.secret(args.passfile),
        addPreviousOutputInEnv: false,
      },
      { parent: this, additionalSecretOutputs: ["stdin"] },
    );
    const apply = hostStep(`${name}-apply`, args.ssh, this.script, { parent: this, dependsOn: [passfile] });
    this.report = apply.stdout;
    this.registerOutputs({ report: this.report });
  }
}
