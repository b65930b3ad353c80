// What make refresh and make restore-cluster share: a stack's cluster config with its secrets,
// and the replacement of the cluster's data from a stanza: standbys stopped, the leader restored
// (host/refresh.sh), standbys cleared, then `pulumi up`, which copies the leader to them.
import { Stack } from "@pulumi/pulumi/automation";
import { ClusterSpec, HostSpec, MaskingTable, NAMESPACE, parseStackConfig } from "../config";
import { ADMIN_ROLE, PREVIEW_ROLE, REPLICATION_ROLE } from "../names";
import { sshRun } from "../observe/backups";
import { renderAdminOnlyHba } from "../render/pgHba";
import { RefreshRoles, RefreshSource, RefreshTarget, renderRefreshLeaderScript, renderRefreshStandbyScript } from "../render/refresh";
import { scramVerifier } from "../render/scram";
import { shellQuote } from "../render/quote";
import { renderBackupNowScript } from "../render/restore";
import { RUN_SCRIPT_AS_ROOT } from "../render/sshCommands";

/** A refusal before any host is touched: printed as such. */
export class Refused extends Error {}

export interface ClusterConfig {
  spec: ClusterSpec;
  /** The stack's secrets, decrypted: key → value. */
  secrets: Record<string, string | undefined>;
}

/** The stack's cluster that `wanted` picks (CLUSTER= when several do), parsed as `up` parses it. */
export async function readClusterConfig(
  stack: Stack,
  wanted: (c: ClusterSpec) => boolean,
  what: string,
  cluster?: string,
): Promise<ClusterConfig> {
  const all = await stack.getAllConfig();
  const value = (k: string) => all[`${NAMESPACE}:${k}`];
  const json = (k: string) => (value(k) === undefined ? undefined : JSON.parse(value(k)!.value));
  const keys = Object.keys(all)
    .filter((k) => k.startsWith(`${NAMESPACE}:`))
    .map((k) => k.slice(NAMESPACE.length + 1));
  const secretNames = keys.filter((k) => value(k)!.secret);
  const parsed = parseStackConfig(
    { clusters: json("clusters"), migration: json("migration"), protect: json("protect"), confirm: json("confirm"), keys },
    Object.fromEntries(keys.map((k) => [k, true])),
    new Set(secretNames),
  );
  const found = parsed.clusters.filter((c) => wanted(c) && (!cluster || c.name === cluster));
  if (found.length === 0) throw new Refused(`${stack.name} has no cluster${cluster ? ` ${cluster}` : ""} with ${what}`);
  if (found.length > 1) throw new Refused(`${stack.name} has ${found.map((c) => c.name).join(", ")}: say which with CLUSTER=`);
  return { spec: found[0], secrets: Object.fromEntries(secretNames.map((k) => [k, value(k)!.value])) };
}

/** The stack's own roles with the stack's own passwords (SCRAM verifiers, never the passwords). */
export function ownRoles(spec: ClusterSpec, secrets: Record<string, string | undefined>): Omit<RefreshRoles, "othersLoseLogin"> {
  const password = (k: string) => secrets[k] ?? "";
  return {
    admin: scramVerifier(ADMIN_ROLE, password("adminPassword")),
    replication: scramVerifier(REPLICATION_ROLE, password("replicationPassword")),
    ...(spec.ssh.preview ? { preview: scramVerifier(PREVIEW_ROLE, password("previewPassword")) } : {}),
  };
}

async function runScript(spec: ClusterSpec, host: HostSpec, script: string, timeoutMs: number): Promise<string> {
  const r = await sshRun(spec, host, RUN_SCRIPT_AS_ROOT, timeoutMs, script);
  process.stdout.write(r.out);
  if (r.code !== 0) throw new Error(r.err.trim().split("\n").pop() || `${host.name}: exit ${r.code}`);
  return r.out;
}

export interface Replacement {
  source: RefreshSource;
  target: RefreshTarget;
  roles: RefreshRoles;
  masking: MaskingTable[];
  maskingKey: string;
  /** What the report's first line says was done, e.g. "refreshed from production (its latest point)". */
  describe: string;
  /** What each part took, in order; the parts before this one included. */
  times: [string, number][];
}

const timed = async <T>(label: string, times: [string, number][], f: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const result = await f();
  times.push([label, (Date.now() - started) / 1000]);
  return result;
};

/** Replaces the cluster's data from the stanza, then updates the stack; prints the report. */
export async function replaceClusterData(stack: Stack, spec: ClusterSpec, r: Replacement): Promise<void> {
  const leader = spec.hosts.find((h) => h.name === spec.leader)!;
  const standbys = spec.hosts.filter((h) => h.name !== spec.leader && !h.down);
  const { times } = r;
  await timed("standbys stopped", times, () =>
    Promise.all(standbys.map((h) => runScript(spec, h, renderRefreshStandbyScript(h.name, "stop"), 300_000))),
  );
  const leaderOut = await timed("leader restored, roles set, masked, reopened", times, () =>
    runScript(
      spec,
      leader,
      renderRefreshLeaderScript({
        host: leader.name,
        source: r.source,
        target: r.target,
        adminHba: renderAdminOnlyHba(spec, ADMIN_ROLE),
        roles: r.roles,
        masking: r.masking,
        maskingKey: r.maskingKey,
      }),
      24 * 3600_000,
    ),
  );
  // the leader is another system now: its stanza takes it (the earlier backups stay, for retention
  // to expire); nothing of the unmasked moment was archived (archiving was off until the masking)
  const ownBackups = r.source.reader ? spec.backup : undefined;
  const onRepository = (command: string, timeoutMs: number) =>
    sshRun(
      spec,
      { name: ownBackups!.repository.name, address: ownBackups!.repository.address, sshPort: ownBackups!.repository.sshPort },
      command,
      timeoutMs,
    );
  if (ownBackups)
    await timed(`${ownBackups.stanza}: stanza upgraded to the refreshed system`, times, async () => {
      const upgrade = await onRepository(
        `cd / && sudo -n -u ${shellQuote(ownBackups.repository.user)} pgbackrest --stanza=${shellQuote(ownBackups.stanza)} --log-level-console=warn stanza-upgrade`,
        600_000,
      );
      if (upgrade.code !== 0) throw new Error(`stanza-upgrade of ${ownBackups.stanza}: ${upgrade.err.trim().split("\n").pop()}`);
    });
  await timed("standbys cleared", times, () =>
    Promise.all(standbys.map((h) => runScript(spec, h, renderRefreshStandbyScript(h.name, "clear"), 300_000))),
  );
  await timed(`${stack.name} updated (standbys copied from the leader)`, times, async () => {
    const up = await stack.up({ onOutput: (o) => process.stderr.write(o) });
    process.stdout.write(`${stack.name} updated: ${JSON.stringify(up.summary.resourceChanges)}\n`);
    // a step run for what the hosts showed at plan time runs once more, as a no-op, on the next
    // update (README: what is not done yet): that update is this one, so the stack is converged
    const again = await stack.up({ onOutput: (o) => process.stderr.write(o) });
    process.stdout.write(`${stack.name} converged: ${JSON.stringify(again.summary.resourceChanges)}\n`);
  });
  // the first backup of the new system, of the masked data, once the standbys stream (backups come from one)
  if (ownBackups)
    await timed(`${ownBackups.stanza}: full backup of the masked data`, times, async () => {
      const full = await onRepository(`sudo -n bash -c ${shellQuote(renderBackupNowScript(ownBackups.stanza, "full"))}`, 24 * 3600_000);
      if (full.code !== 0) throw new Error(`the full backup of ${ownBackups.stanza}: ${full.err.trim().split("\n").pop()}`);
      process.stdout.write(full.out);
    });

  process.stdout.write(`report: ${stack.name}'s cluster ${spec.name} ${r.describe}\n`);
  for (const line of leaderOut.split("\n").filter((l) => / masked |d from stanza|restored in|recovered and|needs attention/.test(l)))
    process.stdout.write(`  ${line.replace(/^pg-replication on [^:]+: /, "")}\n`);
  for (const [label, seconds] of times) process.stdout.write(`  ${label}: ${seconds.toFixed(1)} s\n`);
}
