import * as pulumi from "@pulumi/pulumi";
import { probeScript } from "../observe/hosts";
import { renderPreviewAccessScript } from "../render/previewAccess";
import { SshAccess, hostStep } from "./connection";

export interface PreviewAccessArgs {
  ssh: SshAccess;
  /** The preview identity's Unix user and public key line. */
  user: string;
  publicKey: string;
  /** CIDRs the key may log in from (ssh.preview.from); absent: anywhere sshd admits. */
  from?: string[];
  /** The roles the observation reports on. */
  roles: string[];
  /** Whether it lists a primary's personal-looking columns (a cluster a refresh fills). */
  personalColumns?: boolean;
}

/**
 * A member's preview identity: its user, whose key runs nothing but the plan-time observation
 * (a forced command through one sudo rule), so a pull request's preview can read the host and
 * never change it.
 */
export class PreviewAccess extends pulumi.ComponentResource {
  readonly report: pulumi.Output<string>;

  constructor(name: string, args: PreviewAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:host:PreviewAccess", name, {}, opts);
    const script = renderPreviewAccessScript({
      user: args.user,
      publicKey: args.publicKey,
      ...(args.from ? { from: args.from } : {}),
      probe: probeScript(args.roles, { personalColumns: args.personalColumns }),
    });
    const step = hostStep(`${name}-install`, args.ssh, script, {}, { parent: this });
    this.report = step.stdout;
    this.registerOutputs({ report: this.report });
  }
}
