import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { renderApplyHostConfig } from "../render/hostScripts";
import { SshAccess, sshConnection } from "./connection";

export interface HostConfigurationArgs {
  ssh: SshAccess;
  /** The conf.d include this member gets (see render/postgresqlConf.ts). */
  postgresqlConf: pulumi.Input<string>;
  /** The managed block at the top of its pg_hba.conf (see render/pgHba.ts). */
  hbaBlock: pulumi.Input<string>;
}

/**
 * One member's PostgreSQL configuration, applied over SSH. The script is the resource's
 * input, so `pulumi preview --diff` shows exactly which lines a host would get.
 */
export class HostConfiguration extends pulumi.ComponentResource {
  /** What the last apply did: "configuration unchanged", "reloaded …" or "restarting … for: …". */
  readonly report: pulumi.Output<string>;

  constructor(name: string, args: HostConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:host:HostConfiguration", name, {}, opts);
    const script = pulumi.all([args.postgresqlConf, args.hbaBlock]).apply(([conf, hba]) => renderApplyHostConfig(conf, hba));
    const apply = new command.remote.Command(
      `${name}-apply`,
      { connection: sshConnection(args.ssh), create: script, addPreviousOutputInEnv: false },
      { parent: this },
    );
    this.report = apply.stdout;
    this.registerOutputs({ report: this.report });
  }
}
