// The standbys of a cluster, once its leader leads and the replication role exists: each member
// other than the leader follows it (components/standby.ts), then, one member at a time, the
// configuration runs once more (the settle pass) to lower what a standby had to hold at its
// leader's value while the leader still ran with it.
import * as pulumi from "@pulumi/pulumi";
import { slotName } from "../names";
import { ClusterContext, replicationAccess } from "./clusterContext";
import { HostConfiguration } from "./hostConfiguration";
import { HostObservation } from "../observe/hosts";
import { Standby } from "./standby";

/**
 * What a follower's step says it saw at plan time, when a member this program made a standby is
 * no longer a running standby of the leader's system: the step's input then differs from any run that left the member another way,
 * so a stopped, demoted or foreign member never reads as converged.
 */
export function followerNote(seen: HostObservation, leader: HostObservation | undefined): string | undefined {
  const ownSystem = !leader?.systemId || seen.systemId === leader.systemId;
  // a member never made a standby yet: its step runs anyway (new, or a new leader), and a note
  // would make the run after it differ once more
  if (!seen.followed) return undefined;
  if (seen.running && seen.standby && ownSystem) return undefined;
  const system = ownSystem
    ? `system ${seen.systemId || "none"}`
    : `system ${seen.systemId || "none"} (the leader's is ${leader?.systemId})`;
  return `${seen.running ? "running" : "stopped"}, ${seen.standby ? "a standby" : "not a standby"}, ${system}`;
}

export function standbySteps(
  c: ClusterContext,
  configured: Map<string, HostConfiguration>,
  after: pulumi.Resource[],
): { standbys: Standby[]; settled: pulumi.Output<string>[] } {
  const access = replicationAccess(c);
  const standbys = c.followers.map(
    (host) =>
      new Standby(
        `${c.name}-${host.name}`,
        {
          ssh: c.sshOf(host),
          standby: {
            host: host.name,
            ...access,
            slot: slotName(host.name),
            rebuild: host.rebuild ?? "",
            ...(c.spec.backup?.standbyRebuild === "delta" ? { rebuildStanza: c.spec.backup.stanza } : {}),
            // a member that is not a running standby of this cluster at plan time gets its step run
            observed: followerNote(c.observations[host.name], c.observations[c.leader.name]),
          },
        },
        { parent: c.parent, dependsOn: [...after, ...configured.get(host.name)!.applied] },
      ),
  );
  let previous: pulumi.Resource[] = [...standbys];
  const settled: pulumi.Output<string>[] = [];
  for (const host of c.followers) {
    const settle = configured.get(host.name)!.settle(previous);
    previous = [settle];
    settled.push(settle.stdout);
  }
  return { standbys, settled };
}
