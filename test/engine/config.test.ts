// A corpus of bad stack configurations, each previewed by the real `pulumi` CLI running the real
// program: every one is refused with its key, before anything is planned for a host, and every
// host's files and postmaster start time are the same afterwards.
import { strict as assert } from "node:assert";
import { EngineProject } from "../support/engine";
import { hostFingerprint } from "../support/hosts";
import { sandbox } from "../support/sandbox";

type Cluster = Record<string, unknown> & { hosts: Record<string, unknown>[]; clients: Record<string, unknown>[] };

function devCluster(): Cluster {
  const s = sandbox();
  return {
    name: "main",
    leader: "pg1",
    hosts: ["pg1", "pg2", "pg3"].map((name) => ({ name, address: s.hosts.find((h) => h.name === name)!.address })),
    ssh: { user: "deploy", privateKeyPath: s.privateKeyPath, knownHostsPath: s.knownHostsPath },
    adminAddresses: [`${s.controllerAddress}/32`],
    clients: [{ database: "appdb", user: "app", address: "10.77.0.0/24" }],
  };
}

interface Case {
  what: string;
  change: (c: Cluster, extra: Record<string, unknown>) => void;
  /** The key and the start of its message, as the error names it. */
  expect: RegExp;
  plaintextPassword?: boolean;
}

const CORPUS: Case[] = [
  {
    what: "a host without an address",
    change: (c) => delete c.hosts[2].address,
    expect: /clusters\[0\]\.hosts\[2\]\.address: is required/,
  },
  {
    what: "a duplicate address",
    change: (c) => (c.hosts[2].address = c.hosts[1].address),
    expect: /clusters\[0\]\.hosts\[2\]\.address: duplicate address "10\.77\.0\.12"/,
  },
  {
    what: "a duplicate host name",
    change: (c) => (c.hosts[2].name = "pg2"),
    expect: /clusters\[0\]\.hosts\[2\]\.name: duplicate host name "pg2"/,
  },
  {
    what: "a leader that is not a host",
    change: (c) => (c.leader = "pg9"),
    expect: /clusters\[0\]\.leader: names no host of this cluster: "pg9"/,
  },
  {
    what: "a plaintext password",
    change: () => undefined,
    plaintextPassword: true,
    expect: /pg-replication:adminPassword: is stored in plaintext; it must be a secret/,
  },
  {
    what: "a newline in a setting's value",
    change: (c) => (c.settings = { work_mem: "64MB\nfsync = off" }),
    expect: /clusters\[0\]\.settings\.work_mem: contains a control character/,
  },
  {
    what: "a pg_hba line smuggled in a client user",
    change: (c) => (c.clients[0].user = "app\nhost all all 0.0.0.0/0 trust"),
    expect: /clusters\[0\]\.clients\[0\]\.user: contains a control character/,
  },
  {
    what: "a double quote in a client database",
    change: (c) => (c.clients[0].database = 'app"db'),
    expect: /clusters\[0\]\.clients\[0\]\.database: contains a double quote/,
  },
  {
    what: "a client user read as a group by pg_hba",
    change: (c) => (c.clients[0].user = "+admins"),
    expect: /clusters\[0\]\.clients\[0\]\.user: starts with \+ or @/,
  },
  {
    what: "a client database name over 63 characters",
    change: (c) => (c.clients[0].database = "d".repeat(64)),
    expect: /clusters\[0\]\.clients\[0\]\.database: is longer than 63/,
  },
  {
    what: "a typo in a cluster key",
    change: (c) => ((c.leadr = c.leader), delete c.leader),
    expect: /clusters\[0\]\.leadr: is not a known key; did you mean "leader"\?/,
  },
  {
    what: "a typo in a host key",
    change: (c) => ((c.hosts[1].adress = c.hosts[1].address), delete c.hosts[1].address),
    expect: /clusters\[0\]\.hosts\[1\]\.adress: is not a known key; did you mean "address"\?/,
  },
  {
    what: "a typo in an ssh key",
    change: (c) => (c.ssh = { ...(c.ssh as object), privateKeyPth: "/x" }),
    expect: /clusters\[0\]\.ssh\.privateKeyPth: is not a known key; did you mean "privateKeyPath"\?/,
  },
  {
    what: "a typo in a top-level key",
    change: (_, extra) => (extra["pg-replication:cluster"] = "x"),
    expect: /pg-replication:cluster: is not a known key; did you mean "pg-replication:clusters"\?/,
  },
  {
    what: "a setting name that is not one",
    change: (c) => (c.settings = { "work-mem": "4MB" }),
    expect: /clusters\[0\]\.settings\.work-mem: is not a PostgreSQL setting name/,
  },
  {
    what: "a setting the program owns",
    change: (c) => (c.settings = { primary_conninfo: "host=evil" }),
    expect: /clusters\[0\]\.settings\.primary_conninfo: is managed by pg-replication/,
  },
  {
    what: "the port as a setting",
    change: (c) => (c.settings = { port: 5433 }),
    expect: /clusters\[0\]\.settings\.port: is managed by pg-replication: set clusters\[\]\.port instead/,
  },
  {
    what: "wal_level minimal",
    change: (c) => (c.settings = { wal_level: "minimal" }),
    expect: /clusters\[0\]\.settings\.wal_level: must be replica or logical/,
  },
  {
    what: "a setting whose value is a map",
    change: (c) => (c.settings = { work_mem: { a: 1 } }),
    expect: /clusters\[0\]\.settings\.work_mem: must be a string, number or boolean/,
  },
  {
    what: "an unknown sslmode",
    change: (c) => (c.sslmode = "prefer"),
    expect: /clusters\[0\]\.sslmode: must be one of disable, require, verify-ca, verify-full/,
  },
  { what: "a port out of range", change: (c) => (c.port = 70000), expect: /clusters\[0\]\.port: must be a port number/ },
  {
    what: "an upper-case host name",
    change: (c) => (c.hosts[0].name = "PG1"),
    expect: /clusters\[0\]\.hosts\[0\]\.name: must be lowercase letters/,
  },
  {
    what: "shell in an address",
    change: (c) => (c.hosts[1].address = "10.77.0.12;reboot"),
    expect: /clusters\[0\]\.hosts\[1\]\.address: is neither an IP address nor a host name/,
  },
  {
    what: "a client address without a prefix",
    change: (c) => (c.clients[0].address = "10.77.0.0"),
    expect: /clusters\[0\]\.clients\[0\]\.address: must be a CIDR/,
  },
  {
    what: "an admin address that is not a CIDR",
    change: (c) => (c.adminAddresses = ["everyone"]),
    expect: /clusters\[0\]\.adminAddresses\[0\]: must be a CIDR/,
  },
  {
    what: "a typo in a tuned setting",
    change: (c) => (c.tuning = { shared_bufers: "1GB" }),
    expect: /clusters\[0\]\.tuning\.shared_bufers: is not a tuned setting; did you mean "shared_buffers"\?/,
  },
  {
    what: "a rebuild token with a space",
    change: (c) => (c.hosts[1].rebuild = "next week"),
    expect: /clusters\[0\]\.hosts\[1\]\.rebuild: must be a short token/,
  },
  { what: "no ssh access", change: (c) => delete c.ssh, expect: /clusters\[0\]\.ssh: is required/ },
  {
    what: "shell in the ssh user",
    change: (c) => (c.ssh = { ...(c.ssh as object), user: "deploy;id" }),
    expect: /clusters\[0\]\.ssh\.user: is not a Unix user name/,
  },
  {
    what: "an underscore in a cluster name",
    change: (c) => (c.name = "main_db"),
    expect: /clusters\[0\]\.name: must be lowercase letters/,
  },
  {
    what: "a private key that cannot be read",
    change: (c) => (c.ssh = { ...(c.ssh as object), privateKeyPath: "/nonexistent/key" }),
    expect: /clusters\[0\]\.ssh\.privateKeyPath: cannot read \/nonexistent\/key/,
  },
];

describe("bad stack configurations through the engine", function () {
  this.timeout(900_000);
  const project = new EngineProject("pg-replication");
  const members = ["old", "pg1", "pg2", "pg3"];
  let fingerprints: Record<string, string>;

  before(() => {
    fingerprints = Object.fromEntries(members.map((m) => [m, hostFingerprint(m)]));
  });
  after(() => project.dispose());

  CORPUS.forEach((c, i) => {
    it(`refuses ${c.what}, naming its key`, () => {
      const stack = `bad${i}`;
      const cluster = devCluster();
      const extra: Record<string, unknown> = {};
      c.change(cluster, extra);
      project.initStack(stack);
      project.setConfigObject(stack, { "pg-replication:clusters": [cluster], ...extra });
      project.setConfig(stack, "pg-replication:adminPassword", "admin-pw-123", !c.plaintextPassword);
      project.setConfig(stack, "pg-replication:replicationPassword", "repl-pw-456", true);
      const r = project.run(["preview", "--stack", stack]);
      const out = r.stdout + r.stderr;
      assert.notEqual(r.code, 0, out);
      assert.match(out, c.expect);
      assert.doesNotMatch(out, /admin-pw-123|repl-pw-456/, "no password in the output");
      assert.doesNotMatch(r.stdout, /command:remote:Command|HostConfiguration/, "nothing was planned for any host");
    });
  });

  it("left every host's files and postmaster start time as they were", () => {
    assert.equal(CORPUS.length >= 25, true);
    for (const m of members) assert.equal(hostFingerprint(m), fingerprints[m], `${m} changed`);
  });
});
