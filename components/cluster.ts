import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, HostSpec } from "../config";
import { Endpoint, clientCertificate } from "../lib/endpoint";
import { LoginCheck } from "../observe/adminLogin";
import { HostObservation } from "../observe/hosts";
import { ReplicationState, readReplicationState } from "../observe/replication";
import { ApplicationConnection, renderApplicationConnections } from "../render/applicationConnections";
import { renderHbaBlock } from "../render/pgHba";
import { renderPostgresqlConf } from "../render/postgresqlConf";
import { PASSFILE_PATH, renderPassfile } from "../render/roles";
import { renderTuningConf } from "../render/tuning";
import { ADMIN_ROLE, OBSERVED_ROLES, PREVIEW_ROLE, REPLICATION_ROLE, slotName } from "../names";
import { BackupReaderKey } from "../render/backupScripts";
import { ClusterContext, drifted } from "./clusterContext";
import { clusterRoles } from "./clusterRoles";
import { SshAccess } from "./connection";
import { HostConfiguration } from "./hostConfiguration";
import { PreviewAccess } from "./previewAccess";
import { leadershipSteps } from "./leadership";
import { standbySteps } from "./standbySteps";
import { ClusterBackups } from "./backups";
import { slotCleanupStep } from "./slotCleanup";

export interface PostgresClusterArgs {
  spec: ClusterSpec;
  /** The SSH private key of `spec.ssh.user` (a secret); absent: the SSH agent's. */
  sshPrivateKey?: pulumi.Input<string>;
  /** The preview identity's public key line, when the cluster has one (spec.ssh.preview). */
  previewPublicKey?: string;
  /** The CA certificate (its text) the members verify each other with, when the cluster's sslmode is verify-*. */
  rootCert?: string;
  previewPassword?: pulumi.Input<string>;
  /** Each host's SSH host key by host name, from known_hosts. */
  hostKeys: Record<string, pulumi.Input<string> | undefined>;
  /** The pgBackRest repository host's SSH host key, when the cluster has backups. */
  repositoryHostKey?: string;
  /** The S3 repository's keys and its certificate's CA (text), when the cluster's backups have one. */
  s3Credentials?: { key: pulumi.Input<string>; secret: pulumi.Input<string> };
  s3Ca?: string;
  /** The repository host's read-only accounts and their keys (backup.readers). */
  readerKeys?: BackupReaderKey[];
  /** What each host showed at plan time (observe/hosts.ts), by host name. */
  observations: Record<string, HostObservation>;
  /** The hosts marked down that answered holding a primary of the cluster (config/fencing.ts): each is fenced before a promotion. */
  fence?: Record<string, HostObservation>;
  adminPassword: pulumi.Input<string>;
  replicationPassword: pulumi.Input<string>;
  /** Whether the admin role logged in on the leader with its password at plan time. */
  adminLogin: LoginCheck;
  /** What the replication secrets on the hosts should hash to (observe/hosts.ts compares). */
  expectedHashes: { passfile: string; replicationVerifier: string };
  /** Who reads the replication state at preview: the preview identity's pg_monitor role (a pull request's machine never tries the admin's login); absent: the admin. */
  previewStateLogin?: { user: string; password: string };
  /** How the cluster reads its servers (observe/): replaced in unit tests only. */
  readers?: { replicationState?: typeof readReplicationState };
}

type TlsFiles = Pick<Endpoint, "sslrootcert" | "sslcert" | "sslkey">;

function url(user: string, password: string, host: string, port: number, database: string, sslmode: string, files: TlsFiles): string {
  const h = host.includes(":") ? `[${host}]` : host;
  const params = Object.entries(files)
    .filter(([, file]) => file)
    .map(([name, file]) => `&${name}=${encodeURIComponent(file!)}`)
    .join("");
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${h}:${port}/${encodeURIComponent(database)}?sslmode=${sslmode}${params}`;
}

/**
 * A PostgreSQL 15 cluster on a set of hosts: every member configured alike (any of them can be
 * promoted), an admin role for the postgresql provider and the replication role on the leader,
 * and every other member a streaming standby of the leader.
 *
 * Order, so that a change needing a restart never takes every member down at once: the
 * standbys' configuration one at a time (each streaming again before the next), then the
 * leader's, then the roles and standbys, then a settle pass over the standbys for settings a hot
 * standby must hold at least as high as its leader (raised on standbys first, lowered on the
 * leader first).
 */
export class PostgresCluster extends pulumi.ComponentResource {
  readonly leader: pulumi.Output<string>;
  readonly members: pulumi.Output<string[]>;
  /** Per host, what its steps did on the last `up`. */
  readonly hostReports: pulumi.Output<Record<string, string>>;
  readonly replicationState: pulumi.Output<ReplicationState>;
  readonly adminConnectionString: pulumi.Output<string>;
  readonly replicationConnectionString: pulumi.Output<string>;
  /** The recovery window and archiving health, when the cluster has backups. */
  readonly backups?: ClusterBackups;
  /**
   * How applications reach the cluster, by database and user: over every live member, read-write
   * or preferring a standby. No password, so not a secret: made from the spec alone.
   */
  readonly applicationConnections: pulumi.Output<Record<string, Record<string, ApplicationConnection>>>;
  /** The leader as other components reach it over SSH (the migration's target). */
  readonly leaderAccess: { name: string; ssh: SshAccess };
  /** A database on the leader as the admin role (a secret: it holds the password), once the role exists. */
  readonly adminEndpoint: (database: string) => pulumi.Output<Endpoint>;

  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:cluster:PostgresCluster", name, {}, opts);
    const { spec } = args;
    const leader = spec.hosts.find((h) => h.name === spec.leader);
    if (!leader) throw new Error(`cluster ${spec.name}: leader ${spec.leader} is not one of its hosts`);
    // hosts marked down (failover) get no step at all: nobody waits for them
    const live = spec.hosts.filter((h) => !h.down);
    const followers = live.filter((h) => h !== leader);
    const sshOf = (host: HostSpec) => ({
      address: host.address,
      port: host.sshPort,
      user: spec.ssh.user,
      privateKey: args.sshPrivateKey,
      hostKey: args.hostKeys[host.name],
    });

    const postgresqlConf = renderPostgresqlConf(spec);
    const preview = spec.ssh.preview && args.previewPublicKey ? { ...spec.ssh.preview, publicKey: args.previewPublicKey } : undefined;
    const hbaBlock = renderHbaBlock(spec, {
      admin: ADMIN_ROLE,
      replication: REPLICATION_ROLE,
      preview: preview ? PREVIEW_ROLE : undefined,
    });
    const passfile = pulumi.secret(pulumi.output(args.replicationPassword).apply((pw) => renderPassfile(REPLICATION_ROLE, pw)));
    const clusterCpus = Math.max(...live.map((h) => args.observations[h.name].cpus));
    const configure = (host: HostSpec, after: pulumi.Resource[]) =>
      new HostConfiguration(
        `${name}-${host.name}`,
        {
          ssh: sshOf(host),
          host: host.name,
          postgresqlConf,
          tuningConf: renderTuningConf(spec, host.name, args.observations[host.name], clusterCpus),
          hbaBlock,
          passfile,
          passfilePath: PASSFILE_PATH,
          rootCert: args.rootCert,
          passfileNote: drifted(args.observations[host.name].passfileHash, args.expectedHashes.passfile)
            ? "observed at plan time: the passfile differs from the configured password"
            : undefined,
        },
        { parent: this, dependsOn: after },
      );
    const configured = new Map<string, HostConfiguration>();
    let previous: pulumi.Resource[] = [];
    for (const host of [...followers, leader]) {
      const c = configure(host, previous);
      configured.set(host.name, c);
      previous = c.applied;
    }
    const leaderConfiguration = configured.get(leader.name)!;
    // one host after another: on hosts that share /etc (as the sandbox's do) two useradds would race
    let previousAccess: pulumi.Resource[] = [];
    for (const host of preview ? live : []) {
      const access = new PreviewAccess(
        `${name}-${host.name}-preview`,
        {
          ssh: sshOf(host),
          user: preview!.user,
          publicKey: preview!.publicKey,
          from: preview!.from,
          roles: OBSERVED_ROLES,
          personalColumns: !!spec.refresh,
        },
        { parent: this, dependsOn: previousAccess },
      );
      previousAccess = [access];
    }

    const context: ClusterContext = {
      name,
      spec,
      leader,
      followers,
      observations: args.observations,
      fence: args.fence ?? {},
      sshOf,
      parent: this,
    };
    // a leader change: former leaders stop (demote), then the new one is promoted
    const promoted = leadershipSteps(context, leaderConfiguration.applied);
    const { admin, replication } = clusterRoles(
      context,
      {
        adminPassword: args.adminPassword,
        replicationPassword: args.replicationPassword,
        adminLogin: args.adminLogin,
        previewPassword: preview ? args.previewPassword : undefined,
        expectedVerifierHash: args.expectedHashes.replicationVerifier,
      },
      promoted,
    );
    // after a switchover the new leader may still hold values it kept as a standby: settle it first
    const leaderSettled = leaderConfiguration.settle([promoted]);
    const { standbys, settled } = standbySteps(context, configured, [replication, leaderSettled]);
    // the slots of hosts removed from config, once the leader leads
    const slotsDropped = slotCleanupStep(context, [promoted]);
    const done: pulumi.Output<string>[] = [
      leaderConfiguration.report,
      promoted.stdout,
      leaderSettled.stdout,
      slotsDropped.stdout,
      ...settled,
    ];

    if (spec.backup) {
      this.backups = new ClusterBackups(
        `${name}-backup`,
        {
          spec: { ...spec, backup: spec.backup },
          members: live,
          leader,
          sshOf,
          hostKeys: Object.fromEntries(live.map((h) => [h.name, String(args.hostKeys[h.name] ?? "")])),
          repositoryHostKey: args.repositoryHostKey ?? "",
          privateKey: args.sshPrivateKey,
          s3Credentials: args.s3Credentials,
          s3Ca: args.s3Ca,
          readerKeys: args.readerKeys ?? [],
          after: [...leaderConfiguration.applied, promoted, leaderSettled, ...standbys],
        },
        { parent: this },
      );
    }
    this.leaderAccess = { name: leader.name, ssh: sshOf(leader) };
    const endpointOf = (database: string) => ({
      host: leader.address,
      port: spec.port,
      database,
      sslmode: spec.sslmode,
      ...(spec.sslRootCert ? { sslrootcert: spec.sslRootCert } : {}),
    });
    const adminCertificate = clientCertificate(spec.adminCertificate);
    this.adminEndpoint = (database) =>
      pulumi.secret(
        pulumi
          .all([admin.roleName, args.adminPassword])
          .apply(([user, password]) => ({ ...endpointOf(database), ...adminCertificate, user, password })),
      );
    this.leader = pulumi.output(leader.name);
    this.members = pulumi.output(live.map((h) => h.name));
    this.hostReports = pulumi.all(
      Object.fromEntries(
        live.map((h) => {
          const s = standbys[followers.indexOf(h)];
          const reports = [configured.get(h.name)!.report, ...(s ? [s.report] : [])];
          return [h.name, pulumi.all(reports).apply((r) => r.filter(Boolean).join("\n"))];
        }),
      ),
    );
    const readState = args.readers?.replicationState ?? readReplicationState;
    const slots = Object.fromEntries(followers.map((h) => [h.name, slotName(h.name)]));
    const stateAs = (user: string, password: string) =>
      readState(leader.name, { ...endpointOf("postgres"), ...(user === ADMIN_ROLE ? adminCertificate : {}), user, password }, slots);
    // a preview changes nothing, so its read starts now, beside the engine's diff, not after it
    const login = args.previewStateLogin;
    const early = !pulumi.runtime.isDryRun()
      ? undefined
      : login
        ? pulumi.output(stateAs(login.user, login.password))
        : pulumi.output(args.adminPassword).apply((pw) => stateAs(ADMIN_ROLE, pw));
    this.replicationState = pulumi.unsecret(
      pulumi
        .all([args.adminPassword, admin.roleName, ...done])
        .apply(([pw, user]) => (early && user === ADMIN_ROLE ? early : pulumi.output(stateAs(user, pw)))),
    );
    this.adminConnectionString = pulumi.secret(
      pulumi
        .all([admin.roleName, args.adminPassword])
        .apply(([user, pw]) =>
          url(user, pw, leader.address, spec.port, "postgres", spec.sslmode, { sslrootcert: spec.sslRootCert, ...adminCertificate }),
        ),
    );
    this.replicationConnectionString = pulumi.secret(
      pulumi
        .all([replication.roleName, args.replicationPassword])
        .apply(
          ([user, pw]) =>
            url(user, pw, leader.address, spec.port, "replication", spec.sslmode, { sslrootcert: spec.sslRootCert }) + "&replication=true",
        ),
    );
    this.applicationConnections = pulumi.output(renderApplicationConnections(spec));
    this.registerOutputs({
      leader: this.leader,
      members: this.members,
      hostReports: this.hostReports,
      replicationState: this.replicationState,
      adminConnectionString: this.adminConnectionString,
      replicationConnectionString: this.replicationConnectionString,
      applicationConnections: this.applicationConnections,
    });
  }
}
