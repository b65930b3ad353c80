// The leader change under mocks: a host marked down that answered as a primary is fenced, and the
// promotion waits for that step; a host not to fence gets no step at all.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { HostObservation } from "../../../observe/hosts";
import { plain, registered, reset, value } from "../../support/mocks";
import { clusterSpec } from "../fixtures";
import { clusterArgs } from "./scenarios";

const { PostgresCluster } = require("../../../components/cluster") as typeof import("../../../components/cluster");

/** A failover to pg2, pg1 marked down; `fence` as index.ts hands it over. */
async function failover(fence: Record<string, HostObservation>) {
  reset();
  const args = clusterArgs();
  const opts: Record<string, pulumi.CustomResourceOptions> = {};
  const resources: Record<string, pulumi.Resource> = {};
  const cluster = new PostgresCluster(
    "main",
    {
      ...args,
      spec: clusterSpec({
        leader: "pg2",
        hosts: [
          { name: "pg1", address: "10.77.0.11", sshPort: 22, down: true },
          { name: "pg2", address: "10.77.0.12", sshPort: 22 },
          { name: "pg3", address: "10.77.0.13", sshPort: 22 },
        ],
      }),
      observations: { pg2: args.observations.pg2, pg3: args.observations.pg3 },
      fence,
    },
    {
      transformations: [
        (a) => {
          opts[a.name] = a.opts;
          resources[a.name] = a.resource;
          return undefined;
        },
      ],
    },
  );
  await value(cluster.hostReports);
  await value(cluster.replicationState);
  return { opts, resources, steps: registered.filter((r) => r.type === "command:remote:Command") };
}

const pg1Primary = (running: boolean): HostObservation => ({
  memoryMiB: 4096,
  cpus: 2,
  roles: [],
  running,
  standby: false,
  systemId: "7431",
  passfileHash: "",
  replicationVerifierHash: "",
  timeline: 1,
});

describe("leadership: fencing a host marked down", () => {
  it("fences pg1 on pg1 itself, and promotes pg2 only after that step", async () => {
    const { opts, resources, steps } = await failover({ pg1: pg1Primary(true) });
    const fence = steps.find((s) => s.name === "main-pg1-fence");
    assert.ok(fence, "a fence step on pg1");
    assert.equal(plain(fence.inputs.connection).host, "10.77.0.11");
    const script = plain(fence.inputs.stdin);
    assert.match(script, /^# observed at plan time: running as a primary while marked down$/m);
    assert.match(script, /pg_ctlcluster "\$\{cluster\[@\]\}" stop -m fast/);
    assert.match(script, /^start_conf=.*\/etc\/postgresql\/15\/main\/start\.conf/m);
    const lead = (opts["main-lead"].dependsOn ?? []) as pulumi.Resource[];
    assert.ok(lead.includes(resources["main-pg1-fence"]), "main-lead depends on main-pg1-fence");
    // nothing else runs on a host marked down
    assert.deepEqual(
      steps.filter((s) => plain(s.inputs.connection).host === "10.77.0.11").map((s) => s.name),
      ["main-pg1-fence"],
    );
  });

  it("fences a stopped primary without the observed line (its start.conf only), so a converged fence stays unchanged", async () => {
    const { steps } = await failover({ pg1: pg1Primary(false) });
    const fence = steps.find((s) => s.name === "main-pg1-fence")!;
    assert.doesNotMatch(plain(fence.inputs.stdin), /observed at plan time/);
  });

  it("gives a down host not to fence no step", async () => {
    const { steps } = await failover({});
    assert.deepEqual(
      steps.filter((s) => s.name.endsWith("-fence")),
      [],
    );
  });
});
