import * as pulumi from "@pulumi/pulumi";
import { renderAdminRoleSql } from "../render/roles";
import { RUN_SQL_AS_POSTGRES } from "../render/sshCommands";
import { SshAccess, hostStep } from "./connection";
import { secretVerifier } from "./verifier";

export interface AdminRoleArgs {
  ssh: SshAccess;
  roleName: pulumi.Input<string>;
  password: pulumi.Input<string>;
  /**
   * Set when the role exists but its password was refused at plan time (someone changed it):
   * the note changes the step's input, so `up` sets the password again.
   */
  repairNote?: pulumi.Input<string | undefined>;
  /** Another role whose stored password drifted: set again from this step (peer authentication works regardless). */
  repairRole?: { role: string; verifier: pulumi.Input<string> };
}

/**
 * The superuser role the postgresql provider logs in with, bootstrapped over SSH through the
 * local postgres account (peer authentication), as an operator would. Only a SCRAM verifier
 * leaves this program, on stdin.
 */
export class AdminRole extends pulumi.ComponentResource {
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: AdminRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:role:AdminRole", name, {}, opts);
    const sql = pulumi
      .all([args.roleName, secretVerifier(args.roleName, args.password), args.repairNote, args.repairRole?.verifier])
      .apply(([role, v, note, other]) =>
        renderAdminRoleSql(role, v, note, args.repairRole && other ? { role: args.repairRole.role, verifier: other } : undefined),
      );
    const bootstrap = hostStep(`${name}-bootstrap`, args.ssh, sql, { run: RUN_SQL_AS_POSTGRES, secretStdin: true }, { parent: this });
    // known once the bootstrap has run (an id is known before an update finishes; stdout is not)
    this.roleName = pulumi.all([args.roleName, bootstrap.stdout]).apply(([role]) => role);
    this.registerOutputs({ roleName: this.roleName });
  }
}
