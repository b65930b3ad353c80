import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import { ClusterSpec } from "../config";
import { renderHbaBlock } from "../render/pgHba";
import { renderPostgresqlConf } from "../render/postgresqlConf";
import { AdminRole } from "./adminRole";
import { HostConfiguration } from "./hostConfiguration";
import { ReplicationRole } from "./replicationRole";

export const ADMIN_ROLE = "pgr_admin";
export const REPLICATION_ROLE = "replicator";

export interface PostgresClusterArgs {
  spec: ClusterSpec;
  /** The SSH private key of `spec.ssh.user` (a secret). */
  sshPrivateKey: pulumi.Input<string>;
  /** Each host's SSH host key by host name, from known_hosts. */
  hostKeys: Record<string, pulumi.Input<string> | undefined>;
  adminPassword: pulumi.Input<string>;
  replicationPassword: pulumi.Input<string>;
}

function url(user: string, password: string, host: string, port: number, database: string, sslmode: string): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${h}:${port}/${encodeURIComponent(database)}?sslmode=${sslmode}`;
}

/**
 * A PostgreSQL 15 cluster on a set of hosts: every member configured alike (any of them can be
 * promoted), an admin role for the postgresql provider, and the replication role on the leader.
 */
export class PostgresCluster extends pulumi.ComponentResource {
  readonly leader: pulumi.Output<string>;
  readonly members: pulumi.Output<string[]>;
  /** Per host, what its configuration step did on the last `up`. */
  readonly hostReports: pulumi.Output<Record<string, string>>;
  readonly adminConnectionString: pulumi.Output<string>;
  readonly replicationConnectionString: pulumi.Output<string>;

  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:cluster:PostgresCluster", name, {}, opts);
    const { spec } = args;
    const leader = spec.hosts.find((h) => h.name === spec.leader);
    if (!leader) throw new Error(`cluster ${spec.name}: leader ${spec.leader} is not one of its hosts`);
    const sshOf = (host: (typeof spec.hosts)[number]) => ({
      address: host.address,
      port: host.sshPort,
      user: spec.ssh.user,
      privateKey: args.sshPrivateKey,
      hostKey: args.hostKeys[host.name],
    });

    const postgresqlConf = renderPostgresqlConf(spec);
    const hbaBlock = renderHbaBlock(spec, { admin: ADMIN_ROLE, replication: REPLICATION_ROLE });
    const configured = new Map(
      spec.hosts.map((host) => [
        host.name,
        new HostConfiguration(`${name}-${host.name}`, { ssh: sshOf(host), postgresqlConf, hbaBlock }, { parent: this }),
      ]),
    );

    const admin = new AdminRole(
      `${name}-admin`,
      { ssh: sshOf(leader), roleName: ADMIN_ROLE, password: args.adminPassword },
      { parent: this, dependsOn: [configured.get(leader.name)!] },
    );
    const provider = new postgresql.Provider(
      `${name}-leader`,
      {
        host: leader.address,
        port: spec.port,
        username: admin.roleName,
        password: pulumi.secret(args.adminPassword),
        database: "postgres",
        sslmode: spec.sslmode,
        superuser: true,
        connectTimeout: 15,
      },
      { parent: this },
    );
    const replication = new ReplicationRole(
      `${name}-replication`,
      { provider, roleName: REPLICATION_ROLE, password: args.replicationPassword },
      { parent: this },
    );

    this.leader = pulumi.output(leader.name);
    this.members = pulumi.output(spec.hosts.map((h) => h.name));
    this.hostReports = pulumi.all(Object.fromEntries([...configured].map(([host, c]) => [host, c.report])));
    this.adminConnectionString = pulumi.secret(
      pulumi
        .all([admin.roleName, args.adminPassword])
        .apply(([user, pw]) => url(user, pw, leader.address, spec.port, "postgres", spec.sslmode)),
    );
    this.replicationConnectionString = pulumi.secret(
      pulumi
        .all([replication.roleName, args.replicationPassword])
        .apply(([user, pw]) => url(user, pw, leader.address, spec.port, "replication", spec.sslmode) + "&replication=true"),
    );
    this.registerOutputs({
      leader: this.leader,
      members: this.members,
      hostReports: this.hostReports,
      adminConnectionString: this.adminConnectionString,
      replicationConnectionString: this.replicationConnectionString,
    });
  }
}
