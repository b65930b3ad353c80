import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { secretVerifier } from "./verifier";

export interface ReplicationRoleArgs {
  /** A postgresql provider logged in on the leader as a superuser. */
  provider: postgresql.Provider;
  roleName: pulumi.Input<string>;
  password: pulumi.Input<string>;
  /** Set to the role's name when it exists already: it is imported (a no-op once in the stack's state). */
  adopt?: string;
}

/**
 * The role standbys stream WAL with: REPLICATION LOGIN, no superuser, no database. Being
 * refused by every database is pg_hba's job (render/pgHba.ts); this role holds nothing else.
 */
export class ReplicationRole extends pulumi.ComponentResource {
  readonly roleName: pulumi.Output<string>;

  constructor(name: string, args: ReplicationRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:role:ReplicationRole", name, {}, opts);
    const role = new postgresql.Role(
      name,
      {
        name: args.roleName,
        login: true,
        replication: true,
        superuser: false,
        createDatabase: false,
        createRole: false,
        inherit: false,
        // the provider's defaults, written out: an update plan (promotion) then knows them before
        // the role exists, instead of seeing them appear at creation
        connectionLimit: -1,
        encryptedPassword: true,
        validUntil: "infinity",
        password: secretVerifier(args.roleName, args.password),
      },
      // a destroy leaves it: the standbys stream with it, and the next stack adopts it
      { parent: this, provider: args.provider, import: args.adopt, retainOnDelete: true },
    );
    this.roleName = role.name;
    this.registerOutputs({ roleName: this.roleName });
  }
}
