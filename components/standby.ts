import * as pulumi from "@pulumi/pulumi";
import { StandbyScript, renderStandbyScript } from "../render/hostScripts";
import { SshAccess, hostStep } from "./connection";

export interface StandbyArgs {
  ssh: SshAccess;
  standby: StandbyScript;
}

/**
 * A follower streaming from the leader through its own physical slot. pg_basebackup runs only
 * when the member is not yet a standby (or its rebuild token changed); a rerun, a reload or a
 * restart never wipes a working standby (host/standby.sh).
 */
export class Standby extends pulumi.ComponentResource {
  readonly report: pulumi.Output<string>;

  constructor(name: string, args: StandbyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:standby:Standby", name, {}, opts);
    const step = hostStep(
      `${name}-follow`,
      args.ssh,
      renderStandbyScript(args.standby),
      {},
      {
        parent: this,
        customTimeouts: { create: "6h", update: "6h" },
      },
    );
    this.report = step.stdout;
    this.registerOutputs({ report: this.report });
  }
}
