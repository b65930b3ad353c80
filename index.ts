// Reads the stack's configuration, looks at each host (memory, CPUs) and wires one
// PostgresCluster per configured cluster.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import {
  ClusterSpec,
  ConfigError,
  MIGRATION_SECRET_KEY,
  MigrationSpec,
  NAMESPACE,
  PREVIEW_SECRET_KEY,
  S3_SECRET_KEYS,
  SECRET_KEYS,
  parseStackConfig,
} from "./config";
import { PostgresCluster } from "./components/cluster";
import { ADMIN_ROLE, OBSERVED_ROLES, PREVIEW_ROLE, REPLICATION_ROLE, readerAccount } from "./names";
import { HostObservation, HostUnreachable, observeDownHost, observeHost } from "./observe/hosts";
import { clusterMemoryProblems } from "./config/hostMemory";
import { cutoverAhead, preflightSource, sourceClosed, unsubscribedAtPlan } from "./observe/migration";
import { primaryProblems } from "./config/primaries";
import { wayBackProblems } from "./config/wayBackGuard";
import { askMembers, fencedToAsk, fencing } from "./config/fencing";
import { askPostgres } from "./observe/postgresAnswer";
import { askFromMember } from "./observe/memberAnswer";
import { checkSourceFromLeader } from "./observe/sourceReach";
import { LoginCheck, checkLogin } from "./observe/adminLogin";
import { findHostKey, hostKeyProblem } from "./observe/knownHosts";
import { productionProblems } from "./config/production";
import { unconfirmed } from "./config/confirm";
import { checkIdentity, checkPreviewLogins, identityFromEnv } from "./observe/identity";
import { adminCertificateProblems } from "./config/adminCertificate";
import { unmaskedColumns } from "./observe/personalColumns";
import { mark, profileLine } from "./lib/profile";
import { isPublicKey } from "./render/previewAccess";
import { passwordProblems } from "./config/passwords";
import { renderPassfile } from "./render/roles";
import { scramVerifier } from "./render/scram";
import { Migration } from "./components/migration";
import { Endpoint, clientCertificate } from "./lib/endpoint";
import { PROTECTED_TYPES } from "./lib/dataBearing";

// Internal to the SDK but stable: whether `pulumi config` holds a key as a secret.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

function readPublicKey(key: string, path: string): string {
  const text = readConfiguredFile(key, path).trim();
  if (!isPublicKey(text)) throw new ConfigError([`${NAMESPACE}:${key}: ${path} is not one OpenSSH public key line`]);
  return text;
}

function readConfiguredFile(key: string, path: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([`${NAMESPACE}:${key}: cannot read ${path}: ${(e as Error).message}`]);
  }
}

// A mistake in config or an unreachable host fails the run with its message alone: no stack
// trace to bury the key that is wrong. The stack is set by hand because the runtime formats it,
// and formatting a source-mapped stack costs some 20 s of garbage collection here.
export = async () => {
  try {
    return await main();
  } catch (e) {
    if (!(e instanceof ConfigError || e instanceof HostUnreachable)) throw e;
    const failure = new pulumi.RunError(e.message);
    failure.stack = e.message;
    throw failure;
  }
};

async function main() {
  mark("start (node, the SDK, the program's modules)");
  const config = new pulumi.Config(NAMESPACE);
  const keys = Object.keys(pulumi.runtime.allConfig())
    .filter((k) => k.startsWith(`${NAMESPACE}:`))
    .map((k) => k.slice(NAMESPACE.length + 1));
  const secretNames = [...SECRET_KEYS, MIGRATION_SECRET_KEY, PREVIEW_SECRET_KEY, ...S3_SECRET_KEYS];
  const present = Object.fromEntries(secretNames.map((k) => [k, pulumi.runtime.getConfig(`${NAMESPACE}:${k}`) !== undefined]));
  const secretKeys = new Set(secretNames.filter((k) => isConfigSecret(`${NAMESPACE}:${k}`)));
  const spec = parseStackConfig(
    {
      clusters: config.getObject<unknown>("clusters"),
      migration: config.getObject<unknown>("migration"),
      protect: config.getObject<unknown>("protect"),
      confirm: config.getObject<unknown>("confirm"),
      keys,
    },
    present,
    secretKeys,
  );

  const passwords = passwordProblems(Object.fromEntries(secretNames.map((k) => [k, pulumi.runtime.getConfig(`${NAMESPACE}:${k}`)])));
  if (passwords.length > 0) throw new ConfigError(passwords);
  const identity = identityFromEnv(process.env);
  const identityProblems = spec.clusters.flatMap((c, i) => [
    ...checkIdentity(c, i, identity, process.env),
    // the preview identity never logs in as the admin: its machine holds no admin certificate
    ...(identity.kind === "deploy" ? adminCertificateProblems(c, i) : []),
    ...productionProblems(c, i, pulumi.getStack()),
  ]);
  if (identityProblems.length > 0) throw new ConfigError(identityProblems);
  const inputs = spec.clusters.map((cluster, i) => {
    const key = `clusters[${i}].ssh`;
    const sshPrivateKey = cluster.ssh.privateKeyPath ? readConfiguredFile(`${key}.privateKeyPath`, cluster.ssh.privateKeyPath) : undefined;
    const previewPublicKey = cluster.ssh.preview
      ? readPublicKey(`${key}.preview.publicKeyPath`, cluster.ssh.preview.publicKeyPath)
      : undefined;
    const knownHosts = cluster.ssh.knownHostsPath ? readConfiguredFile(`${key}.knownHostsPath`, cluster.ssh.knownHostsPath) : undefined;
    const hostKeys = Object.fromEntries(
      cluster.hosts.map((h, hi) => {
        const hostKey = knownHosts === undefined ? undefined : findHostKey(knownHosts, h.address, h.sshPort);
        if (knownHosts !== undefined && hostKey === undefined) {
          throw new ConfigError([
            `${NAMESPACE}:clusters[${i}].hosts[${hi}].address: no host key for ${h.address} in ${cluster.ssh.knownHostsPath}`,
          ]);
        }
        const unusable = hostKey === undefined ? undefined : hostKeyProblem(hostKey, h.address, cluster.ssh.knownHostsPath!);
        if (unusable) throw new ConfigError([`${NAMESPACE}:clusters[${i}].ssh.knownHostsPath: ${unusable}`]);
        return [h.name, hostKey];
      }),
    );
    const rootCert = cluster.sslRootCert ? readConfiguredFile(`clusters[${i}].sslRootCert`, cluster.sslRootCert) : undefined;
    const repo = cluster.backup?.repository;
    const repositoryHostKey = repo && knownHosts !== undefined ? findHostKey(knownHosts, repo.address, repo.sshPort) : undefined;
    if (repo && repositoryHostKey === undefined)
      throw new ConfigError([
        `${NAMESPACE}:clusters[${i}].backup.repository.address: no host key for ${repo.address} in ${cluster.ssh.knownHostsPath}`,
      ]);
    const s3 = cluster.backup?.s3;
    const s3Ca = s3?.caFile ? readConfiguredFile(`clusters[${i}].backup.s3.caFile`, s3.caFile) : undefined;
    const readerKeys = (cluster.backup?.readers ?? []).map((r, ri) => ({
      account: readerAccount(r.name),
      key: readPublicKey(`clusters[${i}].backup.readers[${ri}].publicKeyPath`, r.publicKeyPath),
    }));
    return { cluster, sshPrivateKey, previewPublicKey, rootCert, hostKeys, repositoryHostKey, s3Ca, readerKeys };
  });

  mark("config");
  // every host at once, each bounded in time; a host marked down briefly, and its silence is no error
  const [observations, downObservations] = await Promise.all([
    Promise.all(
      inputs.map(async ({ cluster }) =>
        Object.fromEntries(
          await Promise.all(
            cluster.hosts
              .filter((h) => !h.down)
              .map(async (h) => [h.name, await observeHost(cluster, h, OBSERVED_ROLES, identity)] as const),
          ),
        ),
      ),
    ),
    Promise.all(
      inputs.map(async ({ cluster }) =>
        Object.fromEntries(
          await Promise.all(
            cluster.hosts
              .filter((h) => h.down)
              .map(async (h) => [h.name, await observeDownHost(cluster, h, OBSERVED_ROLES, identity)] as const),
          ),
        ),
      ),
    ),
  ]);

  mark("hosts read over SSH");
  // a memory setting more than a host has (config/hostMemory.ts), under the key that set it
  const memory = spec.clusters.flatMap((c, i) => clusterMemoryProblems(c, i, observations[i]));
  if (memory.length > 0) throw new ConfigError(memory);

  // a refreshed cluster's column that looks personal and has no masking rule: a refresh would copy it as it is
  spec.clusters.forEach((c, i) => {
    for (const column of c.refresh ? unmaskedColumns(observations[i][c.leader]?.personalColumns ?? [], c.refresh.masking) : [])
      pulumi.log.warn(`needs attention: cluster ${c.name}: ${column} looks like personal data and no masking rule covers it`);
  });

  if (spec.migration && spec.migration.checksums === "in-pause" && ["sync", "cutover"].includes(spec.migration.phase))
    pulumi.log.warn(
      spec.migration.wayBack
        ? "migration: checksums: in-pause: the cutover counts and checksums every row inside the write pause, which grows with the data"
        : "migration: no way back (wayBack: false): the cutover verifies every row inside the write pause, which grows with the data",
    );

  // a protected stack takes no leader change, rebuild or cutover its config does not confirm
  const m = spec.migration;
  const migrationSeen =
    spec.protect && m && m.phase !== "sync"
      ? {
          cutoverAhead:
            identity.kind === "preview"
              ? undefined
              : await cutoverAhead(m, pulumi.runtime.getConfig(`${NAMESPACE}:${MIGRATION_SECRET_KEY}`) ?? ""),
        }
      : undefined;
  const notConfirmed = unconfirmed(spec, observations, migrationSeen);
  if (notConfirmed.length > 0) throw new ConfigError(notConfirmed);

  // one primary: a member promoted by hand, or a leader that is a stale former primary (others moved
  // on to a newer timeline, whose writes it would lose), stops the preview with what to change
  const primaries = spec.clusters.flatMap((c, i) => primaryProblems(c, observations[i], i));
  if (primaries.length > 0) throw new ConfigError(primaries);
  const wayBack = wayBackProblems(spec.migration, spec.clusters, observations);
  if (wayBack.length > 0) throw new ConfigError(wayBack);

  // a host marked down that may still write: fenced (stopped) before a promotion when it answers,
  // taken on the config's word (`fenced: true`) when it does not (config/fencing.ts)
  const downSeen = downObservations.map((byHost) =>
    Object.fromEntries(Object.entries(byHost).map(([name, o]) => [name, "seen" in o ? o.seen : undefined])),
  );
  for (const byHost of downObservations)
    for (const [name, o] of Object.entries(byHost))
      if ("unreachable" in o) pulumi.log.info(`${o.unreachable} (${name} is marked down: expected)`);
  // a host stated fenced is asked on its PostgreSQL port before a promotion takes its word
  const adminPassword = pulumi.runtime.getConfig(`${NAMESPACE}:adminPassword`) ?? "";
  const planLogin =
    identity.kind === "preview" ? { user: PREVIEW_ROLE, password: identity.dbPassword } : { user: ADMIN_ROLE, password: adminPassword };
  const postgresAnswers = await Promise.all(
    spec.clusters.map(async (c, i) =>
      Object.fromEntries(
        await Promise.all(
          fencedToAsk(c, observations[i][c.leader], downSeen[i]).map(async (name) => {
            const h = c.hosts.find((x) => x.name === name)!;
            const answer = await askPostgres({
              host: h.address,
              port: c.port,
              database: "postgres",
              ...planLogin,
              sslmode: c.sslmode,
              sslrootcert: c.sslRootCert,
              ...(identity.kind === "deploy" ? clientCertificate(c.adminCertificate) : {}),
            });
            if (answer === "not logged in")
              pulumi.log.warn(
                `${name} is stated fenced, and its PostgreSQL at ${h.address}:${c.port} answers from here (the plan-time login was refused, so whether it is a primary cannot be told)`,
              );
            return [name, answer] as const;
          }),
        ),
      ),
    ),
  );
  // silent here, or refusing the login: asked again from each member, as one of its standbys would
  // connect (the preview key runs nothing but the observation, so a preview asks from here alone)
  const memberAnswers = await Promise.all(
    spec.clusters.map(async (c, i) =>
      Object.fromEntries(
        await Promise.all(
          askMembers(postgresAnswers[i]).map(async (name) => {
            if (identity.kind === "preview") {
              pulumi.log.info(`${name} is stated fenced and silent here; the preview identity does not ask the members (an up does)`);
              return [name, {}] as const;
            }
            const down = c.hosts.find((h) => h.name === name)!;
            const said = await Promise.all(
              c.hosts.filter((h) => !h.down).map(async (m) => [m.name, await askFromMember(c, m, down)] as const),
            );
            return [name, Object.fromEntries(said)] as const;
          }),
        ),
      ),
    ),
  );
  const fences = spec.clusters.map((c, i) => fencing(c, observations[i][c.leader], downSeen[i], i, postgresAnswers[i], memberAnswers[i]));
  const unfenced = fences.flatMap((f) => f.problems);
  if (unfenced.length > 0) throw new ConfigError(unfenced);

  // whether the admin role logs in on each leader now (a drifted password is repaired; adoption needs it)
  let adminLogins: LoginCheck[];
  if (identity.kind === "preview") {
    const preview = await checkPreviewLogins(spec.clusters, observations, identity.dbPassword);
    for (const w of preview.warnings) pulumi.log.warn(w);
    adminLogins = preview.logins;
  } else adminLogins = await Promise.all(spec.clusters.map((c) => checkLogin(leaderAdmin(c, "postgres", adminPassword))));

  mark("plan-time checks and logins");
  const replicationPassword = pulumi.runtime.getConfig(`${NAMESPACE}:replicationPassword`) ?? "";
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  const expectedHashes = {
    passfile: sha256(renderPassfile(REPLICATION_ROLE, replicationPassword)),
    replicationVerifier: sha256(scramVerifier(REPLICATION_ROLE, replicationPassword)),
  };

  const sourcePassword = spec.migration ? (pulumi.runtime.getConfig(`${NAMESPACE}:${MIGRATION_SECRET_KEY}`) ?? "") : "";
  // the source publishes only until the cutover: after it, a revert or complete needs none of this
  if (spec.migration && identity.kind === "preview") {
    pulumi.log.info("preview identity: the migration's source is not checked (that takes the deploy identity)");
  } else if (
    spec.migration &&
    (spec.migration.phase === "sync" || spec.migration.phase === "cutover") &&
    (await sourceClosed(spec.migration, sourcePassword))
  ) {
    // a cutover killed inside its write pause: the next cutover opens the source and starts again
    const closed = `the source database ${spec.migration.source.database} is closed to new sessions, as a cutover stopped inside its write pause leaves it`;
    if (spec.migration.phase === "sync")
      throw new ConfigError([
        `${NAMESPACE}:migration.phase: ${closed}: set it to cutover and run up (the cutover opens the database and starts again)`,
      ]);
    pulumi.log.info(`migration: ${closed}; the cutover opens it and starts again`);
  } else if (spec.migration && (spec.migration.phase === "sync" || spec.migration.phase === "cutover")) {
    const problems = await preflightSource(spec.migration, sourcePassword);
    if (problems.length > 0) throw new ConfigError(problems);
    const target = spec.clusters.find((c) => c.name === spec.migration!.target.cluster)!;
    const unreachable = await checkSourceFromLeader(target, spec.migration, sourcePassword);
    if (unreachable) throw new ConfigError([unreachable]);
  }

  if (spec.protect) {
    pulumi.runtime.registerStackTransformation((a) =>
      PROTECTED_TYPES.includes(a.type) ? { props: a.props, opts: pulumi.mergeOptions(a.opts, { protect: true }) } : undefined,
    );
  }
  const clusters = inputs.map(
    ({ cluster, sshPrivateKey, previewPublicKey, rootCert, hostKeys, repositoryHostKey, s3Ca, readerKeys }, i) =>
      new PostgresCluster(cluster.name, {
        spec: cluster,
        sshPrivateKey: sshPrivateKey === undefined ? undefined : pulumi.secret(sshPrivateKey),
        previewPublicKey,
        rootCert,
        previewPassword: previewPublicKey ? config.requireSecret(PREVIEW_SECRET_KEY) : undefined,
        hostKeys,
        repositoryHostKey,
        readerKeys,
        ...(cluster.backup?.s3
          ? { s3Credentials: { key: config.requireSecret("backupS3Key"), secret: config.requireSecret("backupS3Secret") }, s3Ca }
          : {}),
        observations: observations[i],
        fence: Object.fromEntries(fences[i].fence.map((h) => [h, downSeen[i][h] as HostObservation])),
        adminLogin: adminLogins[i],
        ...(identity.kind === "preview" ? { previewStateLogin: { user: PREVIEW_ROLE, password: identity.dbPassword } } : {}),
        expectedHashes,
        adminPassword: config.requireSecret("adminPassword"),
        replicationPassword: config.requireSecret("replicationPassword"),
      }),
  );

  mark("components");
  const line = profileLine();
  if (line) pulumi.log.info(line);
  // the state reads (replication, backups) run once the steps they follow are known
  if (line)
    pulumi
      .all(clusters.flatMap((c): pulumi.Output<unknown>[] => [c.replicationState, ...(c.backups ? [c.backups.state] : [])]))
      .apply(() => pulumi.log.info(`profile: state reads done ${process.uptime().toFixed(2)} s after the start`));
  const byName = <T>(f: (c: PostgresCluster) => T) => Object.fromEntries(clusters.map((c, i) => [spec.clusters[i].name, f(c)]));
  const migration = spec.migration
    ? migrate(
        spec.migration,
        clusters[spec.clusters.findIndex((c) => c.name === spec.migration!.target.cluster)],
        config,
        spec.migration.phase === "sync" && identity.kind !== "preview"
          ? await unsubscribedAtPlan(spec.migration, sourcePassword, targetAdmin(spec.clusters, spec.migration, adminPassword))
          : [],
        identity.kind === "preview",
      )
    : undefined;
  return {
    clusterState: byName((c) => ({ leader: c.leader, members: c.members, hosts: c.hostReports })),
    replicationState: byName((c) => c.replicationState),
    connectionStrings: byName((c) => ({ admin: c.adminConnectionString, replication: c.replicationConnectionString })),
    ...(clusters.some((c) => c.backups) ? { backups: backupsOutput(spec.clusters, clusters) } : {}),
    applicationConnections: byName((c) => c.applicationConnections),
    // where make refresh takes this stack's data from, and what it masks: a rule change shows in every preview
    ...(spec.clusters.some((c) => c.refresh) ? { refresh: refreshOutput(spec.clusters) } : {}),
    ...(migration
      ? {
          migration: {
            phase: spec.migration!.phase,
            state: migration.state,
            cutoverReport: migration.cutoverReport,
            revertReport: migration.revertReport,
          },
        }
      : {}),
  };
}

function refreshOutput(specs: ClusterSpec[]) {
  return Object.fromEntries(
    specs.flatMap((c) =>
      c.refresh
        ? [
            [
              c.name,
              {
                from: `${c.refresh.from}/${c.refresh.cluster}`,
                masking: Object.fromEntries(c.refresh.masking.map((t) => [`${t.database}:${t.schema}.${t.table}`, t.columns])),
              },
            ],
          ]
        : [],
    ),
  );
}

/** Per cluster with backups: its recovery window, and how the make targets reach its repository host. */
function backupsOutput(specs: ClusterSpec[], clusters: PostgresCluster[]) {
  return Object.fromEntries(
    specs.flatMap((c, i) => {
      const b = clusters[i].backups;
      if (!b || !c.backup) return [];
      const repo = c.backup.repository;
      const access = {
        stanza: c.backup.stanza,
        repository: { name: repo.name, address: repo.address, sshPort: repo.sshPort, user: repo.user, path: repo.path },
        leader: c.hosts.filter((h) => h.name === c.leader).map((h) => ({ name: h.name, address: h.address, sshPort: h.sshPort }))[0],
        ssh: { user: c.ssh.user, knownHostsPath: c.ssh.knownHostsPath, privateKeyPath: c.ssh.privateKeyPath },
      };
      return [[c.name, { ...access, state: b.state }]];
    }),
  );
}

/** A database on the cluster's leader, as the admin role (a plan-time read). */
function leaderAdmin(c: ClusterSpec, database: string, password: string): Endpoint {
  const leader = c.hosts.find((h) => h.name === c.leader)!;
  return {
    host: leader.address,
    port: c.port,
    database,
    user: ADMIN_ROLE,
    password,
    sslmode: c.sslmode,
    sslrootcert: c.sslRootCert,
    ...clientCertificate(c.adminCertificate),
  };
}

/** The migration's target database on its cluster's leader, as the admin role. */
function targetAdmin(specs: ClusterSpec[], m: MigrationSpec, password: string): Endpoint {
  return leaderAdmin(
    specs.find((x) => x.name === m.target.cluster)!,
    m.target.database,
    password,
  );
}

function migrate(m: MigrationSpec, cluster: PostgresCluster, config: pulumi.Config, unsubscribed: string[], preview: boolean): Migration {
  return new Migration(
    "migration",
    {
      spec: m,
      unsubscribed,
      sourcePassword: config.requireSecret(MIGRATION_SECRET_KEY),
      targetLeader: cluster.leaderAccess,
      target: cluster.adminEndpoint(m.target.database),
      previewIdentity: preview,
    },
    { dependsOn: [cluster] },
  );
}
