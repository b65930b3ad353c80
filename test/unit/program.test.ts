// index.ts under mocks: stack config in, clusters out; files it reads are named by their key.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";

import { registered, reset, value } from "../support/mocks";
import { HostUnreachable, setHostObserver } from "../../observe/hosts";
import { setPostgresAsker } from "../../observe/postgresAnswer";
import { setMemberAsker } from "../../observe/memberAnswer";
import { Endpoint } from "../../lib/endpoint";
import { setLoginChecker } from "../../observe/adminLogin";

setLoginChecker(async () => "ok");

/** pg1 leads, the others follow; `primaries` run as primaries too, on timeline 2 (promoted by hand). */
const observeMembers = (primaries: string[] = []) =>
  setHostObserver(async (_c, h) => ({
    memoryMiB: 2048,
    cpus: 2,
    roles: [],
    running: true,
    standby: h.name !== "pg1" && !primaries.includes(h.name),
    systemId: "7431",
    passfileHash: "",
    replicationVerifierHash: "",
    timeline: primaries.includes(h.name) ? 2 : 1,
  }));
observeMembers();

/** pg1 does not answer over SSH (`why`); the others are standbys of its system. */
const observePg1Unreachable = (why: string) =>
  setHostObserver(async (c, h) => {
    if (h.name === "pg1") throw new HostUnreachable(c.name, h, why);
    return {
      memoryMiB: 2048,
      cpus: 2,
      roles: [],
      running: true,
      standby: true,
      systemId: "7431",
      passfileHash: "",
      replicationVerifierHash: "",
      timeline: 1,
    };
  });

const types = () => registered.map((r) => r.type);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-program-"));
const keyPath = path.join(dir, "id");
const knownHostsPath = path.join(dir, "known_hosts");
fs.writeFileSync(keyPath, "PRIVATE KEY");

function configure(knownHosts: string, plaintextAdmin = false, extra: object[] = [], overrides: object = {}): void {
  fs.writeFileSync(knownHostsPath, knownHosts);
  const cluster = {
    name: "prog",
    leader: "pg1",
    hosts: [
      { name: "pg1", address: "10.77.0.11" },
      { name: "pg2", address: "10.77.0.12" },
    ],
    ssh: { user: "deploy", privateKeyPath: keyPath, knownHostsPath },
    adminAddresses: ["10.77.0.254/32"],
    ...overrides,
  };
  pulumi.runtime.setAllConfig(
    {
      "pg-replication:clusters": JSON.stringify([cluster, ...extra]),
      "pg-replication:adminPassword": "a-pw",
      "pg-replication:replicationPassword": "r-pw",
    },
    plaintextAdmin ? ["pg-replication:replicationPassword"] : ["pg-replication:adminPassword", "pg-replication:replicationPassword"],
  );
}

async function runProgram(): Promise<Record<string, unknown>> {
  const index = require.resolve("../../index");
  delete require.cache[index];
  return (require(index) as () => Promise<Record<string, unknown>>)();
}

describe("index.ts", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("wires one PostgresCluster per configured cluster", async () => {
    reset();
    configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n");
    const state = (await runProgram()).clusterState as Record<string, { hosts: pulumi.Output<unknown> }>;
    assert.deepEqual(Object.keys(state), ["prog"]);
    assert.deepEqual(await value(state.prog.hosts), {
      pg1: "configuration unchanged\n",
      pg2: "configuration unchanged\n\nconfiguration unchanged\n",
    });
    assert.equal(types().filter((t) => t === "pg-replication:cluster:PostgresCluster").length, 1);
    assert.equal(types().filter((t) => t === "pg-replication:host:HostConfiguration").length, 2);
  });

  it("outputs each cluster's application connections, not as a secret", async () => {
    reset();
    configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n", false, [], {
      clients: [{ database: "appdb", user: "app", address: "10.77.0.0/24" }],
    });
    const connections = (await runProgram()).applicationConnections as Record<string, pulumi.Output<Record<string, unknown>>>;
    assert.equal(await pulumi.isSecret(connections.prog), false);
    assert.deepEqual(Object.keys(await value(connections.prog)), ["appdb"]);
  });

  it("configures several clusters differently in one stack, each on its own hosts only", async () => {
    reset();
    const other = {
      name: "reports",
      leader: "r1",
      hosts: [{ name: "r1", address: "10.77.0.21" }],
      ssh: { user: "deploy", privateKeyPath: keyPath, knownHostsPath },
      adminAddresses: ["10.77.0.254/32"],
      settings: { work_mem: "256MB" },
      tuning: false,
    };
    configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n10.77.0.21 ssh-ed25519 K3\n", false, [other]);
    const state = (await runProgram()).clusterState as Record<string, { hosts: pulumi.Output<unknown> }>;
    assert.deepEqual(Object.keys(state), ["prog", "reports"]);
    await Promise.all([value(state.prog.hosts), value(state.reports.hosts)]);
    const applies = registered.filter((r) => r.name.endsWith("-apply"));
    const stdinOf = (name: string) => JSON.stringify(applies.find((r) => r.name === name)?.inputs.stdin);
    assert.deepEqual(applies.map((r) => r.name).sort(), ["prog-pg1-apply", "prog-pg2-apply", "reports-r1-apply"]);
    assert.match(stdinOf("reports-r1-apply"), /work_mem = 256MB/);
    assert.match(stdinOf("reports-r1-apply"), /Disabled: clusters\[\]\.tuning is false/);
    assert.doesNotMatch(stdinOf("prog-pg1-apply"), /work_mem = 256MB/);
  });

  it("names the host whose key is missing from known_hosts, before creating anything", async () => {
    reset();
    configure("10.77.0.11 ssh-ed25519 K1\n");
    await assert.rejects(runProgram, /pg-replication:clusters\[0\]\.hosts\[1\]\.address: no host key for 10\.77\.0\.12/);
    assert.deepEqual(types(), []);
  });

  it("refuses a memory setting more than a host's memory, before creating anything", async () => {
    reset();
    configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n", false, [], { tuning: { shared_buffers: "900GB" } });
    await assert.rejects(runProgram, (e: Error) => {
      assert.equal(
        e.message,
        "invalid stack configuration:\n" +
          "  - pg-replication:clusters[0].tuning.shared_buffers: 900GB is more than pg1's memory (2.0 GiB)\n" +
          "  - pg-replication:clusters[0].tuning.shared_buffers: 900GB is more than pg2's memory (2.0 GiB)",
      );
      return true;
    });
    assert.deepEqual(types(), []);
  });

  it("refuses a member promoted by hand, naming it, before creating anything", async () => {
    reset();
    observeMembers(["pg2"]);
    try {
      configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n");
      await assert.rejects(runProgram, /pg-replication:clusters\[0\]\.leader: pg1 is a primary on timeline 1, behind pg2 on timeline 2/);
      assert.deepEqual(types(), []);
    } finally {
      observeMembers();
    }
  });

  it("asks a host stated fenced on its PostgreSQL port as the admin role, and refuses the promotion when it answers as a primary", async () => {
    reset();
    observePg1Unreachable("connection refused");
    const asked: Endpoint[] = [];
    setPostgresAsker(async (at) => {
      asked.push(at);
      return "primary";
    });
    try {
      configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n", false, [], {
        leader: "pg2",
        hosts: [
          { name: "pg1", address: "10.77.0.11", down: true, fenced: true },
          { name: "pg2", address: "10.77.0.12" },
        ],
      });
      await assert.rejects(
        runProgram,
        /pg-replication:clusters\[0\]\.hosts\[0\]\.fenced: is true, but pg1's PostgreSQL at 10\.77\.0\.11:5432 answers from here as a primary/,
      );
      assert.deepEqual(types(), []);
      assert.deepEqual(
        asked.map((a) => [a.host, a.port, a.user, a.password]),
        [["10.77.0.11", 5432, "pgr_admin", "a-pw"]],
      );
    } finally {
      setPostgresAsker(async () => "no answer");
      observeMembers();
    }
  });

  it("asks the members about a host stated fenced that is silent here, and refuses the promotion when it answers one as a primary", async () => {
    reset();
    observePg1Unreachable("connection timed out");
    setPostgresAsker(async () => "no answer");
    const asked: string[] = [];
    setMemberAsker(async (_c, member, down) => {
      asked.push(`${member.name} asks ${down.name}`);
      return member.name === "pg3" ? "primary" : "no answer";
    });
    try {
      configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n10.77.0.13 ssh-ed25519 K3\n", false, [], {
        leader: "pg2",
        hosts: [
          { name: "pg1", address: "10.77.0.11", down: true, fenced: true },
          { name: "pg2", address: "10.77.0.12" },
          { name: "pg3", address: "10.77.0.13" },
        ],
      });
      await assert.rejects(
        runProgram,
        /pg-replication:clusters\[0\]\.hosts\[0\]\.fenced: is true, but pg1's PostgreSQL at 10\.77\.0\.11:5432 answers pg3 as a primary \(this machine cannot reach it\)/,
      );
      assert.deepEqual(types(), []);
      assert.deepEqual(asked.sort(), ["pg2 asks pg1", "pg3 asks pg1"]);
    } finally {
      setMemberAsker(async () => "no answer");
      setPostgresAsker(async () => "no answer");
      observeMembers();
    }
  });

  it("refuses a plaintext password", async () => {
    configure("10.77.0.11 ssh-ed25519 K1\n10.77.0.12 ssh-ed25519 K2\n", true);
    await assert.rejects(runProgram, /pg-replication:adminPassword: is stored in plaintext/);
  });
});
