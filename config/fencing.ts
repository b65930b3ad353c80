// Hosts marked down (a failover) that may still write. Each is read at plan time like the others,
// but briefly, and not answering is what is expected of it. One that answers and holds a primary of
// the leader's system (running or stopped) gets a fence step: stopped, and kept from starting by
// itself, before the leader is promoted. One that does not answer can only be taken on trust: a
// promotion in this update (the leader to be is a standby) goes on only if config says it is
// fenced (`fenced: true`: powered off, or cut off from clients and members). That word is checked
// as far as this machine and the members can see: a host stated fenced whose PostgreSQL port
// answers here as a primary, or answers a member so (cut off from this machine alone), is not
// fenced, and the promotion is refused. Without a promotion nothing new can take writes, so a
// converged cluster with a down host away for good is never refused for it.
import { PrimarySeen } from "./primaries";
import { ClusterSpec, NAMESPACE } from "./spec";

export interface Fencing {
  /** The down hosts that answered holding a primary of the leader's system: each gets a fence step. */
  fence: string[];
  /** One line per down host that stops the preview, with the two ways out. */
  problems: string[];
}

/** What a down host's PostgreSQL port said when asked from here (observe/postgresAnswer.ts). */
export type PostgresAnswer = "primary" | "standby" | "not logged in" | "no answer";

/** Whether this update promotes the leader: its data directory is a standby's. */
export const promotes = (leader: PrimarySeen | undefined) => leader?.standby === true;

/** The down hosts whose PostgreSQL port is asked: stated fenced, silent over SSH, and a promotion ahead. */
export function fencedToAsk(c: ClusterSpec, leader: PrimarySeen | undefined, seen: Record<string, PrimarySeen | undefined>): string[] {
  if (!promotes(leader)) return [];
  return c.hosts.filter((h) => h.down && h.fenced && seen[h.name] === undefined).map((h) => h.name);
}

/** Of the hosts asked from here, those the members are asked about too: silent here, or refusing the plan-time login. */
export function askMembers(answers: Record<string, PostgresAnswer>): string[] {
  return Object.entries(answers)
    .filter(([, a]) => a === "no answer" || a === "not logged in")
    .map(([name]) => name);
}

/**
 * What to do with each down host: `seen` holds what each down host showed, undefined for one that
 * did not answer; `leader` what the leader to be showed; `answers` what the PostgreSQL port of
 * each host in `fencedToAsk` said; `fromMembers`, for each host in `askMembers`, what it said to
 * each member that answers over SSH.
 */
export function fencing(
  c: ClusterSpec,
  leader: PrimarySeen | undefined,
  seen: Record<string, PrimarySeen | undefined>,
  i: number,
  answers: Record<string, PostgresAnswer> = {},
  fromMembers: Record<string, Record<string, PostgresAnswer>> = {},
): Fencing {
  const key = `${NAMESPACE}:clusters[${i}]`;
  const fence: string[] = [];
  const problems: string[] = [];
  c.hosts.forEach((h, hi) => {
    if (!h.down) return;
    const s = seen[h.name];
    if (s === undefined) {
      if (promotes(leader) && h.fenced && answers[h.name] === "primary")
        problems.push(
          `${key}.hosts[${hi}].fenced: is true, but ${h.name}'s PostgreSQL at ${h.address}:${c.port} answers from here as a primary, which can take writes: stop it, or cut it off from this machine as well, before ${c.leader} is promoted`,
        );
      const primaryTo = Object.keys(fromMembers[h.name] ?? {}).filter((m) => fromMembers[h.name][m] === "primary");
      if (promotes(leader) && h.fenced && answers[h.name] !== "primary" && primaryTo.length > 0)
        problems.push(
          `${key}.hosts[${hi}].fenced: is true, but ${h.name}'s PostgreSQL at ${h.address}:${c.port} answers ${primaryTo.join(" and ")} as a primary (this machine cannot reach it), which can take writes: stop it, or cut it off from the members as well, before ${c.leader} is promoted`,
        );
      if (promotes(leader) && !h.fenced)
        problems.push(
          `${key}.hosts[${hi}]: ${h.name} is marked down and does not answer over SSH, and ${c.leader} is to be promoted: if ${h.name} still runs as a primary, both would take writes. Either make ${h.name} reachable (the update then stops it before the promotion), or, once it is powered off or cut off from clients and members, set ${key}.hosts[${hi}].fenced to true`,
        );
      return;
    }
    const sameSystem = !leader?.systemId || s.systemId === leader.systemId;
    if (!s.standby && s.systemId !== "" && sameSystem) fence.push(h.name);
  });
  return { fence, problems };
}
