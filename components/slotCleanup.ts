// The slots of members removed from config: a physical slot this program made for a member
// (names.ts slotName) keeps WAL on the leader for as long as it exists, so once its member is gone
// from config it is dropped, on the leader, by a step whose input lists it: `pulumi preview --diff`
// shows which slots an `up` drops before it does.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec } from "../config";
import { NAME_PREFIX, slotName } from "../names";
import { HostObservation, SlotSeen } from "../observe/hosts";
import { renderDropSlotsScript } from "../render/hostScripts";
import { ClusterContext } from "./clusterContext";
import { hostStep } from "./connection";

/** What slotName makes of a host name: the prefix, then lower-case letters, digits and underscores. */
const MEMBER_SLOT = new RegExp(`^${NAME_PREFIX}[a-z0-9_]+$`);

/** Whether a slot is one this program made for a member: physical, named as slotName names them. */
export const isMemberSlot = (s: SlotSeen) => s.type === "physical" && MEMBER_SLOT.test(s.name);

export interface OrphanedSlots {
  /** Member slots of hosts no longer in config, unused: the step drops them. */
  drop: SlotSeen[];
  /** Member slots of hosts no longer in config that a walsender uses (the removed member still streams): kept. */
  inUse: SlotSeen[];
}

/**
 * The member slots on the leader whose host the config no longer names (a host marked down keeps
 * its slot: it comes back). Decided only when the leader runs as a primary and its slots were
 * read: in a leader change, the new leader's slots are the standby steps' own.
 */
export function orphanedSlots(c: ClusterSpec, leader: HostObservation | undefined): OrphanedSlots {
  if (!leader?.running || leader.standby || !leader.slots) return { drop: [], inUse: [] };
  const named = new Set(c.hosts.map((h) => slotName(h.name)));
  const orphaned = leader.slots.filter((s) => isMemberSlot(s) && !named.has(s.name));
  return { drop: orphaned.filter((s) => !s.active), inUse: orphaned.filter((s) => s.active) };
}

/**
 * The leader's step that drops the orphaned slots (one per leader: a new leader gets its own).
 * With nothing to drop it keeps the input of its last run, so that a converged cluster shows no
 * change; a slot to drop changes the input (its name and restart LSN), and the step runs.
 */
export function slotCleanupStep(c: ClusterContext, after: pulumi.Resource[]): command.remote.Command {
  const { drop, inUse } = orphanedSlots(c.spec, c.observations[c.leader.name]);
  for (const s of inUse)
    pulumi.log.warn(
      `slot ${s.name} on ${c.leader.name} belongs to no host in config but is in use (a removed member still streams through it): it is kept; stop that member and the next up drops it`,
      c.parent,
    );
  if (drop.length > 0)
    pulumi.log.info(`slots on ${c.leader.name} of hosts no longer in config, to drop: ${drop.map((s) => s.name).join(", ")}`, c.parent);
  return hostStep(
    `${c.name}-${c.leader.name}-drop-slots`,
    c.sshOf(c.leader),
    renderDropSlotsScript({ host: c.leader.name, slots: drop.map((s) => ({ name: s.name, restartLsn: s.restartLsn })) }),
    {},
    { parent: c.parent, dependsOn: after, ...(drop.length === 0 ? { ignoreChanges: ["stdin"] } : {}) },
  );
}
