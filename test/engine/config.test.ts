// Bad stack configuration stops `pulumi preview` of the real program, naming the key,
// before any resource (and so any host) is touched.
import { strict as assert } from "node:assert";
import { EngineProject } from "../support/engine";
import { sandbox } from "../support/sandbox";

function devCluster(): Record<string, unknown> {
  const s = sandbox();
  return {
    name: "main",
    leader: "pg1",
    hosts: ["pg1", "pg2", "pg3"].map((name) => ({ name, address: s.hosts.find((h) => h.name === name)!.address })),
    ssh: { user: "deploy", privateKeyPath: s.privateKeyPath, knownHostsPath: s.knownHostsPath },
    adminAddresses: [`${s.controllerAddress}/32`],
  };
}

describe("stack configuration through the engine", function () {
  this.timeout(300_000);
  const project = new EngineProject("pg-replication");
  let n = 0;

  function previewWith(cluster: Record<string, unknown>, opts: { plaintextPassword?: boolean } = {}) {
    const stack = `bad${n++}`;
    project.initStack(stack);
    project.setConfigObject(stack, "pg-replication:clusters", [cluster]);
    project.run(["stack", "select", stack]);
    project.setConfig("pg-replication:adminPassword", "admin-pw-123", !opts.plaintextPassword);
    project.setConfig("pg-replication:replicationPassword", "repl-pw-456", true);
    return project.run(["preview", "--stack", stack]);
  }

  after(() => project.dispose());

  it("refuses a host without an address", () => {
    const cluster = devCluster();
    (cluster.hosts as Record<string, unknown>[])[2] = { name: "pg3" };
    const r = previewWith(cluster);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pg-replication:clusters\[0\]\.hosts\[2\]\.address: is required/);
    assert.doesNotMatch(r.stdout, /HostConfiguration|command:remote:Command/, "nothing was planned for any host");
  });

  it("refuses a duplicate address", () => {
    const cluster = devCluster();
    (cluster.hosts as Record<string, unknown>[])[2] = { name: "pg3", address: sandbox().hosts.find((h) => h.name === "pg2")!.address };
    const r = previewWith(cluster);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pg-replication:clusters\[0\]\.hosts\[2\]\.address: duplicate address "10\.77\.0\.12"/);
  });

  it("refuses a plaintext password without printing it", () => {
    const r = previewWith(devCluster(), { plaintextPassword: true });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pg-replication:adminPassword: is stored in plaintext; it must be a secret/);
    assert.doesNotMatch(r.stdout + r.stderr, /admin-pw-123/);
  });

  it("refuses a leader that is not one of the hosts", () => {
    const r = previewWith({ ...devCluster(), leader: "pg9" });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /pg-replication:clusters\[0\]\.leader: names no host of this cluster: "pg9"/);
  });
});
