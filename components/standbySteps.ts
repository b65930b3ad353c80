// The standbys of a cluster, once its leader leads and the replication role exists: each member
// other than the leader follows it (components/standby.ts), then, one member at a time, the
// configuration runs once more (the settle pass) to lower what a standby had to hold at its
// leader's value while the leader still ran with it.
import * as pulumi from "@pulumi/pulumi";
import { PASSFILE_PATH } from "../render/roles";
import { ClusterContext, REPLICATION_ROLE, slotName } from "./clusterContext";
import { hostStep } from "./connection";
import { HostConfiguration } from "./hostConfiguration";
import { Standby } from "./standby";

export function standbySteps(
  c: ClusterContext,
  configured: Map<string, HostConfiguration>,
  after: pulumi.Resource[],
): { standbys: Standby[]; settled: pulumi.Output<string>[] } {
  const access = {
    leaderName: c.leader.name,
    leaderAddress: c.leader.address,
    port: c.spec.port,
    replicationRole: REPLICATION_ROLE,
    passfile: PASSFILE_PATH,
    sslmode: c.spec.sslmode,
  };
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
            // a standby found stopped at plan time gets its step run by this `up`
            observed: c.observations[host.name].running ? undefined : "postgresql was not running",
          },
        },
        { parent: c.parent, dependsOn: [...after, configured.get(host.name)!] },
      ),
  );
  let previous: pulumi.Resource[] = [...standbys];
  const settled: pulumi.Output<string>[] = [];
  for (const host of c.followers) {
    const conf = configured.get(host.name)!;
    const settle = hostStep(`${c.name}-${host.name}-settle`, conf.ssh, conf.settleScript, { parent: c.parent, dependsOn: previous });
    previous = [settle];
    settled.push(settle.stdout);
  }
  return { standbys, settled };
}
