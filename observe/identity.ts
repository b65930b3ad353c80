// Who the program is when it reads the hosts at plan time. The deploy identity (the default) may
// change hosts; the preview identity (PGR_IDENTITY=preview, as a pull request's preview runs) holds
// only a key the hosts restrict to the read-only observation and a pg_monitor role's password.
import { ClusterSpec, ConfigError, NAMESPACE, PREVIEW_SECRET_KEY } from "../config";
import { PREVIEW_ROLE } from "../names";
import { cidrHolds } from "../lib/cidr";
import { LoginCheck, checkLoginFrom } from "./adminLogin";
import { HostObservation } from "./hosts";

export type Identity = { kind: "deploy" } | { kind: "preview"; sshKeyFile: string; dbPassword: string };

export function identityFromEnv(env: NodeJS.ProcessEnv): Identity {
  const kind = env.PGR_IDENTITY ?? "deploy";
  if (kind === "deploy") return { kind };
  if (kind !== "preview") throw new ConfigError([`PGR_IDENTITY: must be deploy or preview, got ${JSON.stringify(kind)}`]);
  const problems: string[] = [];
  const sshKeyFile = env.PGR_PREVIEW_SSH_KEY_FILE ?? "";
  const dbPassword = env.PGR_PREVIEW_DB_PASSWORD ?? "";
  if (!sshKeyFile) problems.push("PGR_PREVIEW_SSH_KEY_FILE: is required with PGR_IDENTITY=preview (the preview identity's SSH key)");
  if (!dbPassword) problems.push("PGR_PREVIEW_DB_PASSWORD: is required with PGR_IDENTITY=preview (the password of its pg_monitor role)");
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind, sshKeyFile, dbPassword };
}

/** What an identity needs of a cluster's config and of the environment. */
export function checkIdentity(c: ClusterSpec, i: number, identity: Identity, env: NodeJS.ProcessEnv): string[] {
  const key = `${NAMESPACE}:clusters[${i}].ssh`;
  if (identity.kind === "preview") {
    return [
      ...(c.ssh.preview ? [] : [`${key}.preview: is required for a preview with PGR_IDENTITY=preview ({user, publicKeyPath})`]),
      ...(c.ssh.privateKeyPath
        ? [
            `${key}.privateKeyPath: a preview identity never reads the deploy key: keep it in the deploy job's SSH agent and remove this key`,
          ]
        : []),
    ];
  }
  return c.ssh.privateKeyPath || env.SSH_AUTH_SOCK
    ? []
    : [`${key}.privateKeyPath: is not set and no SSH agent (SSH_AUTH_SOCK) holds the deploy key: set one of them`];
}

/**
 * The credentials a preview decrypts with its stack's config are useless only from where the
 * hosts refuse them: the admin password from outside adminAddresses, the replication password
 * from anywhere but a member. Where the leader saw this preview's login come from says whether
 * that holds for the machine the pull request's code runs on.
 */
export function previewAddressWarnings(c: ClusterSpec, i: number, from: string | undefined): string[] {
  if (!from) return [];
  const key = `${NAMESPACE}:clusters[${i}]`;
  const admitting = c.adminAddresses.find((cidr) => cidrHolds(cidr, from));
  const member = c.hosts.findIndex((h) => h.address === from);
  return [
    ...(c.adminCertificate
      ? []
      : [
          `needs attention: ${key}.adminCertificate: is not set, so the admin password, which a preview decrypts, is all a login from adminAddresses needs: give the admin role a client certificate whose key only the deploy job holds`,
        ]),
    ...(admitting
      ? [
          `needs attention: ${key}.adminAddresses: ${admitting} admits ${from}, where this preview runs: the admin password, which a preview decrypts, logs in from here; run pull requests' previews on a machine outside adminAddresses and admit it with ssh.preview.from`,
        ]
      : []),
    ...(member >= 0
      ? [
          `needs attention: ${key}.hosts[${member}]: this preview runs on ${c.hosts[member].name} (${from}), where the replication password, which a preview decrypts, streams every database's WAL: run pull requests' previews elsewhere`,
        ]
      : []),
  ];
}

/** A preview logs in with its pg_monitor role where the role exists already; the admin role is the deploy job's. */
export async function checkPreviewLogins(
  clusters: ClusterSpec[],
  seen: Record<string, HostObservation>[],
  password: string,
): Promise<{ logins: LoginCheck[]; warnings: string[] }> {
  const problems: string[] = [];
  const warnings: string[][] = clusters.map(() => []);
  await Promise.all(
    clusters.map(async (c, i) => {
      const leader = c.hosts.find((h) => h.name === c.leader)!;
      if (!seen[i][leader.name]?.roles.includes(PREVIEW_ROLE)) return;
      const { login, from } = await checkLoginFrom({
        host: leader.address,
        port: c.port,
        database: "postgres",
        user: PREVIEW_ROLE,
        password,
        sslmode: c.sslmode,
        sslrootcert: c.sslRootCert,
      });
      if (login !== "ok") {
        problems.push(
          `PGR_PREVIEW_DB_PASSWORD: ${PREVIEW_ROLE} does not log in on ${c.leader} (${leader.address}) with it: set the stack's ${PREVIEW_SECRET_KEY}`,
        );
        return;
      }
      warnings[i] = previewAddressWarnings(c, i, from);
    }),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return { logins: clusters.map(() => "ok"), warnings: warnings.flat() };
}
