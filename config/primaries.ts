// One primary per cluster: what the members showed at plan time against the leader the config
// names. A member other than the leader found running as a primary of the leader's system is
// either expected (the former leader of a switchover, which its demote step stops; a stale former
// primary on an older timeline, which it stops too) or not: promoted by hand, or a split. The
// second kind stops the preview, naming the member and what to change, because the steps could
// only fail on it (demote refuses to stop a primary the new leader does not follow) or, worse,
// start the stopped leader beside it.
import { ClusterSpec, NAMESPACE } from "./spec";

export interface PrimarySeen {
  running: boolean;
  /** Its data directory is a standby's (standby.signal): pg_is_in_recovery() is true once it runs. */
  standby: boolean;
  systemId: string;
  /** Its latest checkpoint's timeline. */
  timeline: number;
  /** A running primary's own timeline (its current WAL file's), when read: newer than `timeline` right after a promotion. */
  currentTimeline?: number;
}

/** The timeline a member writes on: the running primary's own when read, its latest checkpoint's otherwise. */
export const timelineOf = (s: PrimarySeen) => s.currentTimeline ?? s.timeline;

/** The configured members other than the leader that run as primaries of the leader's system. */
export function otherPrimaries(c: ClusterSpec, seen: Record<string, PrimarySeen | undefined>): string[] {
  const leader = seen[c.leader];
  if (!leader?.systemId) return [];
  return c.hosts
    .filter((h) => !h.down && h.name !== c.leader)
    .filter((h) => {
      const s = seen[h.name];
      return s !== undefined && s.running && !s.standby && s.systemId === leader.systemId;
    })
    .map((h) => h.name);
}

/** One line per primary that should not be there, each with the member and what to change; none when every step can proceed. */
export function primaryProblems(c: ClusterSpec, seen: Record<string, PrimarySeen | undefined>, i: number): string[] {
  const key = `${NAMESPACE}:clusters[${i}]`;
  const leader = seen[c.leader];
  const others = otherPrimaries(c, seen);
  if (!leader || others.length === 0) return [];
  const hostKey = (name: string) => `${key}.hosts[${c.hosts.findIndex((h) => h.name === name)}]`;
  const tl = (name: string) => timelineOf(seen[name]!);
  const adopt = (h: string) =>
    `set ${key}.leader to ${h} to adopt it: no copy is made, ${h} goes on as it is and ${c.leader} rejoins it as a standby (rebuilt from it, its own data directory kept aside, if its history has diverged)`;
  const keep = (h: string) =>
    `stop postgresql on ${h} and set ${hostKey(h)}.rebuild to a new token to keep ${c.leader}: ${h} is copied from ${c.leader}, and what ${h} took since its promotion is lost`;

  // the leader to be is a standby (a switchover or failover in this update): only the primary it follows can hand over
  if (leader.standby) {
    if (others.length < 2) return [];
    const list = others.map((h) => `${h} (timeline ${tl(h)})`).join(", ");
    return [
      `${key}.leader: ${list} all run as primaries of this cluster while ${c.leader}, the leader to be, is a standby: only the one it follows can hand over to it. Stop postgresql on the others (or mark them down), then run again`,
    ];
  }

  return others.flatMap((h) => {
    const theirs = tl(h);
    const ours = timelineOf(leader);
    if (leader.running) {
      // behind the leader: a stale former primary (back after a failover), which its demote step stops
      if (theirs < ours) return [];
      if (theirs > ours)
        return [
          `${key}.leader: ${c.leader} is a primary on timeline ${ours}, behind ${h} on timeline ${theirs} (promoted while ${c.leader} was away): keep ${h} the leader until ${c.leader} has rejoined it as a standby, then switch over. Either ${adopt(h)}; or ${keep(h)}`,
        ];
      return [
        `${key}.leader: ${h} runs as a primary too (promoted by hand?), on timeline ${theirs} like ${c.leader}: both take writes apart, and neither can follow the other without a copy. Either ${keep(h)}; or stop postgresql on ${c.leader} and set ${key}.leader to ${h} to adopt it (${c.leader} is then rebuilt from it, its own data directory kept aside)`,
      ];
    }
    // the leader is stopped: its lead step would start it beside a primary that moved on without it
    if (theirs < ours) return [];
    return [
      `${key}.leader: ${c.leader} is stopped (a primary, last on timeline ${ours}) and ${h} runs as a primary of its system on timeline ${theirs}: ${h} was promoted while ${c.leader} was down (by hand?), and starting ${c.leader} would make two primaries. Either ${adopt(h)}; or ${keep(h)}`,
    ];
  });
}
