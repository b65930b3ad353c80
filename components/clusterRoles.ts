// The roles of a cluster, on its leader once it leads: the admin role the postgresql provider
// logs in with (set over SSH, repaired when its password or the replication role's verifier
// drifted), that provider, and the replication role through it.
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { LoginCheck } from "../observe/adminLogin";
import { AdminRole } from "./adminRole";
import { ADMIN_ROLE, PREVIEW_ROLE, REPLICATION_ROLE } from "../names";
import { ClusterContext, drifted } from "./clusterContext";
import { ReplicationRole } from "./replicationRole";
import { secretVerifier } from "./verifier";

export interface RolesArgs {
  adminPassword: pulumi.Input<string>;
  replicationPassword: pulumi.Input<string>;
  /** Whether the admin role logged in on the leader with its password at plan time. */
  adminLogin: LoginCheck;
  /** The preview identity's pg_monitor role gets this password (absent: no such role). */
  previewPassword?: pulumi.Input<string>;
  /** What the replication role's stored verifier should hash to. */
  expectedVerifierHash: string;
}

export function clusterRoles(
  c: ClusterContext,
  args: RolesArgs,
  after: pulumi.Resource,
): { admin: AdminRole; replication: ReplicationRole } {
  const seen = c.observations[c.leader.name];
  // the admin role exists but refused its password at plan time: someone changed it; set it again
  const adminRepair =
    seen.roles.includes(ADMIN_ROLE) && args.adminLogin === "refused"
      ? `repair: ${ADMIN_ROLE} exists but refused its password at plan time; setting it again`
      : undefined;
  const verifierDrifted = seen.roles.includes(REPLICATION_ROLE) && drifted(seen.replicationVerifierHash, args.expectedVerifierHash);
  const admin = new AdminRole(
    `${c.name}-admin`,
    {
      ssh: c.sshOf(c.leader),
      roleName: ADMIN_ROLE,
      password: args.adminPassword,
      repairNote: adminRepair ?? (verifierDrifted ? `repair: ${REPLICATION_ROLE} has another password than the configured one` : undefined),
      repairRole: verifierDrifted
        ? { role: REPLICATION_ROLE, verifier: secretVerifier(REPLICATION_ROLE, args.replicationPassword) }
        : undefined,
    },
    { parent: c.parent, dependsOn: [after] },
  );
  const provider = new postgresql.Provider(
    `${c.name}-leader`,
    {
      host: c.leader.address,
      port: c.spec.port,
      username: admin.roleName,
      password: pulumi.secret(args.adminPassword),
      database: "postgres",
      sslmode: c.spec.sslmode,
      ...(c.spec.sslRootCert ? { sslrootcert: c.spec.sslRootCert } : {}),
      // the members ask the admin for this certificate beside its password (never in the state: paths only)
      ...(c.spec.adminCertificate ? { clientcert: c.spec.adminCertificate } : {}),
      superuser: true,
      connectTimeout: 15,
    },
    { parent: c.parent },
  );
  const replication = new ReplicationRole(
    `${c.name}-replication`,
    {
      provider,
      roleName: REPLICATION_ROLE,
      password: args.replicationPassword,
      // a role the leader already has (an earlier stack, the users' own setup) is adopted, not
      // re-created; importing reads it at preview, so only when the admin role logs in already
      adopt: seen.roles.includes(REPLICATION_ROLE) && args.adminLogin === "ok" ? REPLICATION_ROLE : undefined,
    },
    { parent: c.parent },
  );
  if (args.previewPassword !== undefined) {
    // plan-time reads of a preview: pg_monitor's statistics, no table, no write
    new postgresql.Role(
      `${c.name}-preview`,
      {
        name: PREVIEW_ROLE,
        login: true,
        roles: ["pg_monitor"],
        // pg_monitor's rights come through inheritance (written out: an update plan knows it before the role exists)
        inherit: true,
        superuser: false,
        createDatabase: false,
        createRole: false,
        replication: false,
        connectionLimit: 5,
        encryptedPassword: true,
        validUntil: "infinity",
        password: secretVerifier(PREVIEW_ROLE, args.previewPassword),
      },
      {
        parent: c.parent,
        provider,
        dependsOn: [replication],
        retainOnDelete: true,
        // kept on delete, so a new stack on the same hosts finds it: adopted as the replication role is
        import: seen.roles.includes(PREVIEW_ROLE) && args.adminLogin === "ok" ? PREVIEW_ROLE : undefined,
      },
    );
  }
  return { admin, replication };
}
