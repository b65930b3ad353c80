// A protected stack (pg-replication:protect) takes no destructive step that its config does not
// name in pg-replication:confirm: a leader change or a standby rebuild is as final as a delete.
import { NAMESPACE, StackSpec } from "./spec";

export interface Seen {
  running: boolean;
  standby: boolean;
  /** The rebuild token a member's last rebuild ran with ("" if none). */
  rebuilt?: string;
}

/** The destructive steps this update would take, as `confirm` names them. */
export function destructiveSteps(spec: StackSpec, seen: Record<string, Seen>[]): string[] {
  return spec.clusters.flatMap((c, i) => {
    const leader = seen[i][c.leader];
    const steps = leader?.standby ? [`leader ${c.name} ${c.leader}`] : [];
    for (const h of c.hosts)
      if (!h.down && h.name !== c.leader && h.rebuild && seen[i][h.name] && h.rebuild !== (seen[i][h.name].rebuilt ?? ""))
        steps.push(`rebuild ${c.name} ${h.name}`);
    return steps;
  });
}

/** One line per destructive step a protected stack's config does not confirm. */
export function unconfirmed(spec: StackSpec, seen: Record<string, Seen>[]): string[] {
  if (!spec.protect) return [];
  return destructiveSteps(spec, seen)
    .filter((step) => !spec.confirm.includes(step))
    .map(
      (step) =>
        `${NAMESPACE}:confirm: this update would take "${step}" on a protected stack: add ${JSON.stringify(step)} to pg-replication:confirm to let it`,
    );
}
