// A planned switchover of the migration's target while its way back is open would lose the way
// back: the source follows the target through a logical slot on the target's leader, and a
// PostgreSQL 15 slot does not follow a promotion. Refused at preview, saying what to do first. A
// failover (the current leader marked down) is not refused: the leader is gone, and so is its slot.
import { ClusterSpec, MigrationSpec, NAMESPACE } from "./spec";

export interface MemberSeen {
  running: boolean;
  standby: boolean;
}

export function wayBackProblems(
  migration: MigrationSpec | undefined,
  clusters: ClusterSpec[],
  seen: Record<string, MemberSeen | undefined>[],
): string[] {
  if (!migration?.wayBack || migration.phase !== "cutover") return [];
  const i = clusters.findIndex((c) => c.name === migration.target.cluster);
  const cluster = clusters[i];
  if (!cluster) return [];
  const primary = cluster.hosts.find((h) => !h.down && seen[i]?.[h.name]?.running && !seen[i]?.[h.name]?.standby);
  if (!primary || primary.name === cluster.leader) return [];
  return [
    `${NAMESPACE}:clusters[${i}].leader: ${cluster.leader} would take over from ${primary.name} while the migration's way back is open; ` +
      `the way back's slot lives on ${primary.name} and would be lost (a slot does not follow a promotion): ` +
      `set migration.phase to complete (or revert) first, then switch over; or mark ${primary.name} down if it has failed`,
  ];
}
