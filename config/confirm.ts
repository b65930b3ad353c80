// A protected stack (pg-replication:protect) takes no destructive step that its config does not
// name in pg-replication:confirm: a leader change, a standby rebuild or a migration's cutover is
// as final as a delete.
import { NAMESPACE, StackSpec } from "./spec";

export interface Seen {
  running: boolean;
  standby: boolean;
  /** The rebuild token a member's last rebuild ran with ("" if none). */
  rebuilt?: string;
}

/**
 * What plan time read of the migration: whether its cutover is still ahead (the source still has
 * the subscription's slot, which the cutover's switch drops); undefined when the source was not read.
 */
export interface MigrationSeen {
  cutoverAhead: boolean | undefined;
}

/** How confirm names a migration's cutover: the target cluster and database the writes move to. */
export function cutoverStep(m: { target: { cluster: string; database: string } }): string {
  return `cutover ${m.target.cluster} ${m.target.database}`;
}

interface Step {
  name: string;
  /** Not known to happen, but not ruled out either (what would tell was not read). */
  maybe?: boolean;
}

/** The destructive steps this update would (or may) take, as `confirm` names them. */
export function destructiveSteps(spec: StackSpec, seen: Record<string, Seen>[], migration?: MigrationSeen): Step[] {
  const steps: Step[] = spec.clusters.flatMap((c, i) => {
    const leader = seen[i][c.leader];
    const found = leader?.standby ? [{ name: `leader ${c.name} ${c.leader}` }] : [];
    for (const h of c.hosts)
      if (!h.down && h.name !== c.leader && h.rebuild && seen[i][h.name] && h.rebuild !== (seen[i][h.name].rebuilt ?? ""))
        found.push({ name: `rebuild ${c.name} ${h.name}` });
    return found;
  });
  // every phase past sync has the cutover step, which runs once: while the source still feeds the subscription
  if (spec.migration && spec.migration.phase !== "sync" && migration?.cutoverAhead !== false)
    steps.push({ name: cutoverStep(spec.migration), maybe: migration?.cutoverAhead === undefined });
  return steps;
}

/** One line per destructive step a protected stack's config does not confirm. */
export function unconfirmed(spec: StackSpec, seen: Record<string, Seen>[], migration?: MigrationSeen): string[] {
  if (!spec.protect) return [];
  return destructiveSteps(spec, seen, migration)
    .filter((step) => !spec.confirm.includes(step.name))
    .map(
      ({ name, maybe }) =>
        `${NAMESPACE}:confirm: this update ${maybe ? "may take" : "would take"} ${JSON.stringify(name)} on a protected stack${
          maybe ? " (the source was not read, so a cutover still ahead cannot be ruled out)" : ""
        }: add ${JSON.stringify(name)} to ${NAMESPACE}:confirm to let it`,
    );
}
