// The steps that make the configured leader the one primary: every other member that still runs
// as a primary is stopped (demote), and so is a host marked down that answered as one (fence),
// then the leader is promoted, or found a primary already.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderDemoteScript, renderFenceScript, renderPromoteScript } from "../render/hostScripts";
import { ClusterContext, replicationAccess } from "./clusterContext";
import { hostStep } from "./connection";

export function leadershipSteps(c: ClusterContext, after: pulumi.Resource[]): command.remote.Command {
  const { leader } = c;
  const demoted = c.followers.map((host) =>
    hostStep(
      `${c.name}-${host.name}-demote`,
      c.sshOf(host),
      renderDemoteScript({ host: host.name, ...replicationAccess(c), leaderSystemId: c.observations[leader.name].systemId }),
      {},
      { parent: c.parent, dependsOn: after },
    ),
  );
  // at once, after nothing: the sooner a down host that still writes stops, the better
  const fenced = c.spec.hosts
    .filter((h) => h.down && c.fence[h.name])
    .map((host) =>
      hostStep(
        `${c.name}-${host.name}-fence`,
        c.sshOf(host),
        renderFenceScript({
          host: host.name,
          observed: c.fence[host.name].running ? "running as a primary while marked down" : undefined,
        }),
        {},
        { parent: c.parent },
      ),
    );
  return hostStep(
    `${c.name}-lead`,
    c.sshOf(leader),
    renderPromoteScript({
      host: leader.name,
      downAddresses: c.spec.hosts.filter((h) => h.down).map((h) => h.address),
      observed: c.observations[leader.name].running ? undefined : "postgresql was not running",
    }),
    {},
    { parent: c.parent, dependsOn: [...after, ...demoted, ...fenced] },
  );
}
