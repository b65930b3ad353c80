import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { clusterArgs } from "./scenarios";

import { isSecretValue, plain, registered, reset, value } from "../../support/mocks";

// Imported after the mocks are set, so that every resource goes to them.
const { PostgresCluster } = require("../../../components/cluster") as typeof import("../../../components/cluster");

describe("PostgresCluster", () => {
  let cluster: InstanceType<typeof PostgresCluster>;

  before(async () => {
    reset();
    cluster = new PostgresCluster("main", clusterArgs());
    await value(cluster.adminConnectionString);
    await value(cluster.hostReports);
  });

  const byType = (type: string) => registered.filter((r) => r.type === type);

  // A component's type token is part of every URN below it (urns.test.ts checks them whole):
  // renaming one would make a deployed stack delete and re-create everything it holds.
  it("keeps its components' type tokens, which their URNs are made of", () => {
    const types = new Set(registered.map((r) => r.type));
    for (const t of [
      "pg-replication:cluster:PostgresCluster",
      "pg-replication:host:HostConfiguration",
      "pg-replication:role:AdminRole",
      "pg-replication:role:ReplicationRole",
      "pg-replication:standby:Standby",
    ]) {
      assert.ok(types.has(t), `no ${t} among ${[...types].join(", ")}`);
    }
  });

  it("configures every member over SSH with its own address and pinned host key", () => {
    const applies = byType("command:remote:Command").filter((r) => r.name.endsWith("-apply"));
    assert.deepEqual(applies.map((r) => r.name).sort(), ["main-pg1-apply", "main-pg2-apply", "main-pg3-apply"]);
    const pg2 = applies.find((r) => r.name === "main-pg2-apply")!;
    assert.ok(isSecretValue(pg2.inputs.connection), "the connection carries the private key: a secret");
    const connection = plain(pg2.inputs.connection);
    assert.equal(connection.host, "10.77.0.12");
    assert.equal(connection.user, "deploy");
    assert.equal(connection.hostKey, "ssh-ed25519 K2");
    assert.equal(plain(pg2.inputs.create), "sudo -n bash -s");
    assert.match(plain(pg2.inputs.stdin), /pg-replication\.conf/);
    assert.match(plain(pg2.inputs.stdin), /shared_buffers = 1024MB/, "tuned for the host's 4 GiB");
  });

  it("bootstraps the admin role on the leader only, with the password nowhere in the command", () => {
    const bootstraps = byType("command:remote:Command").filter((r) => r.name.endsWith("-bootstrap"));
    assert.equal(bootstraps.length, 1);
    const { inputs } = bootstraps[0];
    assert.equal(plain(inputs.connection).host, "10.77.0.11");
    assert.ok(!JSON.stringify(inputs).includes("admin-pw"));
    assert.ok(isSecretValue(inputs.stdin), "stdin holds the verifier: a secret");
    assert.match(plain(inputs.stdin), /SCRAM-SHA-256/);
  });

  it("points the postgresql provider at the leader and creates the replication role with it", () => {
    const [provider] = byType("pulumi:providers:postgresql");
    assert.equal(provider.inputs.host, "10.77.0.11");
    assert.equal(provider.inputs.username, "pgr_admin");
    const [role] = byType("postgresql:index/role:Role");
    assert.equal(role.inputs.name, "replicator");
    assert.equal(role.inputs.replication, true);
    assert.equal(role.inputs.superuser, false);
    assert.ok(isSecretValue(role.inputs.password));
    assert.match(plain(role.inputs.password), /^SCRAM-SHA-256\$/);
    const passfiles = registered.filter((r) => r.name.endsWith("-passfile"));
    assert.equal(passfiles.length, 3, "every member gets the passfile, so that any can stream from a new leader");
    for (const p of passfiles) assert.ok(isSecretValue(p.inputs.stdin), "the passfile goes on stdin, as a secret");
    assert.ok(!JSON.stringify(registered.filter((r) => !passfiles.includes(r))).includes("repl-pw"));
    assert.ok(role.provider?.includes("main-leader"), `role provider: ${role.provider}`);
  });

  it("outputs connection strings as secrets", async () => {
    assert.equal(await pulumi.isSecret(cluster.adminConnectionString), true);
    assert.equal(await pulumi.isSecret(cluster.replicationConnectionString), true);
    assert.equal(await value(cluster.adminConnectionString), "postgresql://pgr_admin:admin-pw@10.77.0.11:5432/postgres?sslmode=require");
  });

  it("outputs the applications' connection strings in the clear: no password, no secret input", async () => {
    assert.equal(await pulumi.isSecret(cluster.applicationConnections), false);
    const app = (await value(cluster.applicationConnections)).appdb.app;
    assert.match(app.readWrite.conninfo, /^host='10\.77\.0\.11,10\.77\.0\.12,10\.77\.0\.13' /);
    assert.match(app.readOnly.uri, /target_session_attrs=prefer-standby/);
    assert.ok(!JSON.stringify(app).includes("pw"), "no password in them");
  });

  it("reports what each host's configuration step did", async () => {
    assert.deepEqual(await value(cluster.hostReports), {
      pg1: "configuration unchanged\n",
      pg2: "configuration unchanged\n\nconfiguration unchanged\n",
      pg3: "configuration unchanged\n\nconfiguration unchanged\n",
    });
  });
});

describe("PostgresCluster on a leader that has this program's roles already (a new stack, the same hosts)", () => {
  before(async () => {
    reset();
    const args = clusterArgs();
    for (const seen of Object.values(args.observations)) seen.roles = ["pgr_admin", "replicator", "pgr_preview"];
    args.spec.ssh.preview = { user: "pgr-preview", publicKeyPath: "/keys/preview.pub" };
    const cluster = new PostgresCluster("main", {
      ...args,
      adminLogin: "ok",
      previewPublicKey: "ssh-ed25519 P",
      previewPassword: pulumi.secret("preview-pw"),
    });
    await value(cluster.adminConnectionString);
  });

  it("adopts the replication and the preview role instead of creating them again", () => {
    const roles = registered.filter((r) => r.type === "postgresql:index/role:Role");
    assert.deepEqual(roles.map((r) => [r.inputs.name, r.id]).sort(), [
      ["pgr_preview", "pgr_preview"],
      ["replicator", "replicator"],
    ]);
  });
});
