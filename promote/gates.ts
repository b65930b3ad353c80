// The pure checks of a promotion (promote/promote.ts): did the FROM stack's last update succeed
// at this very commit, is it healthy, what does TO's configuration differ in beyond what is
// per-environment, and would TO's preview do something destructive (lose data, rebuild a standby, change the leader, cut over).
import { ResourceChange, risks } from "../report/markdown";
import type { ReplicationState } from "../observe/replication";

export interface UpdateRecord {
  kind: string;
  result: string;
  environment?: Record<string, string>;
}

/** Why the FROM stack's history does not allow a promotion of `head`, or undefined. */
export function historyProblem(stack: string, history: UpdateRecord[], head: string): string | undefined {
  const last = history.find((u) => u.kind === "update");
  if (!last) return `${stack} has never been updated: run \`pulumi up --stack ${stack}\` at this commit first`;
  if (last.result !== "succeeded")
    return `${stack}'s last update ${last.result === "in-progress" ? "is still running" : "failed"}: fix it and update ${stack} again`;
  const ran = last.environment?.["git.head"];
  if (!ran) return `${stack}'s last update recorded no commit (it did not run in a git checkout)`;
  if (ran !== head)
    return `${stack}'s last update ran at commit ${ran.slice(0, 12)}, not at ${head.slice(0, 12)}: update ${stack} at this commit first`;
  if (last.environment?.["git.dirty"] === "true")
    return `${stack}'s last update ran with uncommitted changes: update it again from a clean checkout`;
  return undefined;
}

/** What is unhealthy in one cluster's live replication state, one line each. */
export function healthProblems(stack: string, cluster: string, state: ReplicationState, standbys: string[], maxLagBytes: number): string[] {
  const where = `${stack} cluster ${cluster}`;
  if (state.error) return [`${where}: the leader ${state.leader} cannot be read: ${state.error}`];
  const problems: string[] = [];
  if (state.leaderInRecovery) problems.push(`${where}: the leader ${state.leader} is in recovery`);
  for (const s of standbys) {
    const st = state.standbys[s];
    if (!st || st.state !== "streaming") problems.push(`${where}: standby ${s} is ${st?.state ?? "not connected"}, not streaming`);
    else if ((st.replayLagBytes ?? 0) > maxLagBytes)
      problems.push(`${where}: standby ${s} is ${st.replayLagBytes} bytes behind (more than ${maxLagBytes})`);
  }
  return problems;
}

/** A migration between its cutover and its end is no time to promote. */
export function migrationProblem(stack: string, migration: { phase?: string; cutoverReport?: unknown } | undefined): string | undefined {
  if (migration?.phase === "cutover" && !migration.cutoverReport) return `${stack} is in the middle of a migration cutover`;
  return undefined;
}

// per-environment by nature: which machines, how to reach them, who may connect from where, and secrets
const PER_ENVIRONMENT = new Set(["hosts", "leader", "ssh", "adminAddresses", "address", "addresses", "clients"]);
const SECRETS = /password/i;

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (PER_ENVIRONMENT.has(k) || SECRETS.test(k)) continue;
      flatten(v, prefix ? `${prefix}.${k}` : k, out);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else {
    out.set(prefix, JSON.stringify(value));
  }
}

/** The configuration TO would have that FROM does not, beyond hosts, addresses and secrets. */
export function configDifferences(
  from: string,
  fromConfig: Record<string, unknown>,
  to: string,
  toConfig: Record<string, unknown>,
): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(fromConfig, "", a);
  flatten(toConfig, "", b);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${from} ${a.get(k) ?? "(unset)"}, ${to} ${b.get(k) ?? "(unset)"}`);
}

/** The planned operations a promotion stops at: those the report counts as destructive (report/markdown.ts). */
export function destructive(stack: string, changes: ResourceChange[]): string[] {
  return risks({ stack, counts: {}, changes })
    .filter((r) => r.destructive)
    .map((r) => r.text);
}
