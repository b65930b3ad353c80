import { strict as assert } from "node:assert";
import { ConfigError, RawStackConfig, parseStackConfig } from "../../config";
import { rawCluster } from "./fixtures";

const present: Record<string, boolean> = { adminPassword: true, replicationPassword: true };
const secrets = new Set(["adminPassword", "replicationPassword"]);

function problems(clusters: unknown, p = present, s = secrets): string[] {
  try {
    parseStackConfig({ clusters }, p, s);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.problems;
  }
  return [];
}

describe("parseStackConfig", () => {
  it("accepts a valid cluster and fills defaults", () => {
    const spec = parseStackConfig({ clusters: [rawCluster()] }, present, secrets);
    const c = spec.clusters[0];
    assert.equal(c.port, 5432);
    assert.equal(c.sslmode, "require");
    assert.equal(c.hosts[0].sshPort, 22);
    assert.deepEqual(c.settings, {});
  });

  it("names the key of a plaintext password", () => {
    const found = problems([rawCluster()], present, new Set(["replicationPassword"]));
    assert.deepEqual(found.length, 1);
    assert.match(found[0], /^pg-replication:adminPassword: is stored in plaintext/);
  });

  it("names the key of a missing password", () => {
    const found = problems([rawCluster()], { adminPassword: true, replicationPassword: false });
    assert.match(found.join("\n"), /pg-replication:replicationPassword: is required/);
  });

  it("names the key of a host without an address", () => {
    const c = rawCluster();
    (c.hosts as Record<string, unknown>[])[1] = { name: "pg2" };
    assert.deepEqual(problems([c]), ["pg-replication:clusters[0].hosts[1].address: is required"]);
  });

  it("refuses a duplicate address across clusters", () => {
    const a = rawCluster();
    const b = { ...rawCluster(), name: "other", leader: "x1", hosts: [{ name: "x1", address: "10.77.0.12" }] };
    const found = problems([a, b]);
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /^pg-replication:clusters\[1\]\.hosts\[0\]\.address: duplicate address "10\.77\.0\.12", already used by pg-replication:clusters\[0\]\.hosts\[1\]\.address/,
    );
  });

  it("refuses a leader that is not a host", () => {
    assert.match(problems([{ ...rawCluster(), leader: "pg9" }])[0], /^pg-replication:clusters\[0\]\.leader: names no host/);
  });

  it("refuses an empty cluster list and an empty host list", () => {
    assert.match(problems([])[0], /^pg-replication:clusters: is required/);
    assert.match(problems([{ ...rawCluster(), hosts: [] }]).join("\n"), /clusters\[0\]\.hosts: must not be empty/);
  });

  it("reports every problem at once, each with its key", () => {
    const c = { ...rawCluster(), port: 70000, sslmode: "prefer", adminAddresses: ["10.0.0.1"], settings: { "bad name": 1 } };
    const found = problems([c]);
    assert.deepEqual(
      found.map((p) => p.split(":").slice(0, 2).join(":")),
      [
        "pg-replication:clusters[0].sslmode",
        "pg-replication:clusters[0].adminAddresses[0]",
        "pg-replication:clusters[0].settings.bad name",
        "pg-replication:clusters[0].port",
      ],
    );
  });

  it("checks every setting and tuning override against PostgreSQL 15's catalogue, each under its key", () => {
    const c = {
      ...rawCluster(),
      settings: {
        wrok_mem: "64MB",
        work_mem: "64 megabytes",
        max_connections: 0,
        wal_level: "minimal",
        port: 5433,
        statement_timeout: "5min",
      },
      tuning: { shared_buffers: "64mb", random_page_cost: "cheap" },
    };
    assert.deepEqual(problems([c]), [
      'pg-replication:clusters[0].settings.wrok_mem: is not a PostgreSQL 15 setting; did you mean "work_mem"?',
      'pg-replication:clusters[0].settings.work_mem: "64 megabytes" is not a valid value (an integer with a unit kB, MB, GB or TB)',
      "pg-replication:clusters[0].settings.max_connections: 0 is outside the valid range 1 .. 262143",
      "pg-replication:clusters[0].settings.wal_level: must be replica or logical (standbys need WAL)",
      "pg-replication:clusters[0].settings.port: is managed by pg-replication: set clusters[].port instead",
      'pg-replication:clusters[0].tuning.shared_buffers: "64mb" is not a valid value (an integer with a unit kB, MB, GB or TB); did you mean "64MB"? (units are case-sensitive)',
      'pg-replication:clusters[0].tuning.random_page_cost: "cheap" is not a valid value (a number)',
    ]);
  });

  it("keeps valid settings and tuning overrides as given", () => {
    const settings = {
      shared_buffers: "1GB",
      wal_level: "logical",
      synchronous_commit: "remote_apply",
      work_mem: "64MB",
      "pg_stat_statements.max": 5000,
    };
    const tuning = { shared_buffers: "128MB", random_page_cost: 1.1, effective_io_concurrency: 200 };
    const spec = parseStackConfig({ clusters: [{ ...rawCluster(), settings, tuning }] }, present, secrets);
    assert.deepEqual(spec.clusters[0].settings, settings);
    assert.deepEqual(spec.clusters[0].tuning, tuning);
  });

  it("refuses client entries that are not CIDRs or too long for PostgreSQL", () => {
    const c = rawCluster();
    c.clients = [{ database: "x".repeat(64), user: "app", address: "10.0.0.0" }];
    const found = problems([c]).join("\n");
    assert.match(found, /clients\[0\]\.database: is longer than 63/);
    assert.match(found, /clients\[0\]\.address: must be a CIDR/);
  });

  it("refuses a leader marked down, and a down mark that is not a boolean", () => {
    const c = rawCluster();
    (c.hosts as Record<string, unknown>[])[0].down = true;
    assert.match(problems([c]).join("\n"), /clusters\[0\]\.leader: names "pg1", which is marked down/);
    (c.hosts as Record<string, unknown>[])[0].down = "yes";
    assert.match(problems([c]).join("\n"), /clusters\[0\]\.hosts\[0\]\.down: must be true or false/);
  });

  it("takes fenced only beside down, and only as a boolean", () => {
    const c = rawCluster();
    const hosts = c.hosts as Record<string, unknown>[];
    hosts[1].fenced = true;
    assert.match(problems([c]).join("\n"), /clusters\[0\]\.hosts\[1\]\.fenced: is only for a host marked down/);
    hosts[1].down = true;
    assert.deepEqual(problems([c]), []);
    hosts[1].fenced = "yes";
    assert.match(problems([c]).join("\n"), /clusters\[0\]\.hosts\[1\]\.fenced: must be true or false/);
  });

  it("names the nearest known key for a typo", () => {
    const c = { ...rawCluster(), leadr: "pg1" };
    assert.match(problems([c]).join("\n"), /clusters\[0\]\.leadr: is not a known key; did you mean "leader"\?/);
  });

  it("refuses control characters anywhere", () => {
    const c = rawCluster();
    (c.clients as Record<string, unknown>[])[0].user = "app\nhost all all 0.0.0.0/0 trust";
    assert.match(problems([c]).join("\n"), /clusters\[0\]\.clients\[0\]\.user: contains a control character/);
  });

  it("reads a migration, with its defaults", () => {
    const spec = parseStackConfig(
      {
        clusters: [rawCluster()],
        migration: { source: { address: "10.77.0.10", database: "appdb", user: "migrator" }, target: { cluster: "main" } },
      },
      { ...present, sourcePassword: true },
      new Set([...secrets, "sourcePassword"]),
    );
    assert.deepEqual(spec.migration, {
      source: { address: "10.77.0.10", port: 5432, database: "appdb", user: "migrator", sslmode: "require" },
      target: { cluster: "main", database: "appdb" },
      tables: [],
      phase: "sync",
      sequenceMargin: 0,
      wayBack: true,
      checksums: "after-switch",
    });
  });

  it("verifies after the switch when there is a way back, in the write pause when there is none, and refuses after-switch without one", () => {
    const parse = (migration: Record<string, unknown>) =>
      parseStackConfig(
        {
          clusters: [rawCluster()],
          migration: { source: { address: "10.77.0.10", database: "appdb", user: "migrator" }, target: { cluster: "main" }, ...migration },
        },
        { ...present, sourcePassword: true },
        new Set([...secrets, "sourcePassword"]),
      ).migration;
    assert.equal(parse({ wayBack: false })?.checksums, "in-pause");
    assert.equal(parse({ wayBack: true, checksums: "in-pause" })?.checksums, "in-pause");
    assert.throws(
      () => parse({ wayBack: false, checksums: "after-switch" }),
      /pg-replication:migration\.checksums: after-switch needs migration\.wayBack: true \(a mismatch found after the switch goes back through it\)/,
    );
  });

  it("admits the source to the target database for the way back, and only then", () => {
    const raw = (wayBack: boolean, phase = "cutover") => ({
      clusters: [rawCluster()],
      migration: { source: { address: "10.77.0.10", database: "appdb", user: "migrator" }, target: { cluster: "main" }, phase, wayBack },
    });
    const parse = (r: RawStackConfig) => parseStackConfig(r, { ...present, sourcePassword: true }, new Set([...secrets, "sourcePassword"]));
    assert.deepEqual(parse(raw(true)).clusters[0].clients.at(-1), { database: "appdb", user: "pgr_wayback", address: "10.77.0.10/32" });
    assert.equal(parse(raw(true)).clusters[0].logicalDecoding, true);
    assert.ok(!parse(raw(false)).clusters[0].clients.some((c) => c.user === "pgr_wayback"));
    assert.equal(parse(raw(false)).clusters[0].logicalDecoding, undefined);
    assert.throws(() => parse(raw(false, "revert")), /pg-replication:migration\.phase: revert takes the way back/);
  });

  it("names the keys of a bad migration", () => {
    const raw = {
      clusters: [rawCluster()],
      migration: {
        source: { address: "x;y", database: "appdb", user: "m" },
        target: { cluster: "main" },
        tables: ["Public.T"],
        phase: "done",
        checksums: "later",
        wayBack: "yes",
      },
    };
    assert.throws(
      () => parseStackConfig(raw, { ...present, sourcePassword: true }, new Set([...secrets, "sourcePassword"])),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        const p = e.problems.join("\n");
        assert.match(p, /migration\.source\.address: is neither/);
        assert.match(p, /migration\.tables\[0\]: must be schema\.table/);
        assert.match(p, /migration\.phase: must be one of sync, cutover, revert, complete/);
        assert.match(p, /migration\.checksums: must be in-pause or after-switch \(got "later"\)/);
        assert.match(p, /migration\.wayBack: must be true or false/);
        return true;
      },
    );
  });

  it("refuses the settings the program owns as such, and a name like an Object property as no setting at all", () => {
    const c = { ...rawCluster(), settings: { primary_conninfo: "host=x", constructor: 1, work_mem: "8MB" } };
    assert.deepEqual(problems([c]), [
      "pg-replication:clusters[0].settings.primary_conninfo: is managed by pg-replication: the standby step writes it",
      "pg-replication:clusters[0].settings.constructor: is not a PostgreSQL 15 setting",
    ]);
  });

  it("checks a name, an address and an sslmode alike wherever they appear", () => {
    const c = { ...rawCluster(), name: "Main", sslmode: "prefer", hosts: [{ name: "pg_1", address: "x;y" }], leader: "pg_1" };
    const m = { source: { address: "x;y", database: "appdb", user: "m", sslmode: "prefer" }, target: { cluster: "Main" } };
    assert.throws(
      () =>
        parseStackConfig({ clusters: [c], migration: m }, { ...present, sourcePassword: true }, new Set([...secrets, "sourcePassword"])),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const keys = e.problems.map((p) => p.split(": ")[0].slice("pg-replication:".length));
        for (const k of [
          "clusters[0].name",
          "clusters[0].hosts[0].name",
          "clusters[0].hosts[0].address",
          "clusters[0].sslmode",
          "migration.source.address",
          "migration.source.sslmode",
        ])
          assert.ok(keys.includes(k), `no problem for ${k} in ${keys.join(", ")}`);
        return true;
      },
    );
  });
});

describe("parseStackConfig: the admin's client certificate", () => {
  const withCert = (extra: Record<string, unknown>) => ({ ...rawCluster(), ...extra });

  it("takes its two files when the cluster's CA is configured", () => {
    const c = withCert({ sslmode: "verify-full", sslRootCert: "/ca.crt", adminCertificate: { cert: "/a.crt", key: "/a.key" } });
    assert.deepEqual(parseStackConfig({ clusters: [c] }, present, secrets).clusters[0].adminCertificate, { cert: "/a.crt", key: "/a.key" });
  });

  it("refuses it without TLS, without the CA, or without a file, each under its key", () => {
    assert.deepEqual(problems([withCert({ sslmode: "disable", adminCertificate: { cert: "/a.crt", key: "/a.key" } })]), [
      "pg-replication:clusters[0].adminCertificate: needs TLS: a client certificate travels in the TLS handshake, and sslmode is disable",
      "pg-replication:clusters[0].adminCertificate: needs sslRootCert: the CA that signed it, which the members check client certificates against",
    ]);
    assert.match(
      problems([withCert({ sslRootCert: "/ca.crt", adminCertificate: { cert: "/a.crt" } })]).join("\n"),
      /adminCertificate\.key/,
    );
    assert.match(
      problems([withCert({ sslRootCert: "/ca.crt", adminCertificate: { cert: "/a.crt", key: "/a.key", pem: "x" } })]).join("\n"),
      /adminCertificate/,
    );
  });
});

describe("parseStackConfig: the preview identity", () => {
  const withPreview = (preview: unknown) => {
    const c = rawCluster() as Record<string, unknown>;
    c.ssh = { ...(c.ssh as object), preview };
    return c;
  };

  it("takes a preview user and public key, and then asks for previewPassword as a secret", () => {
    const found = problems([withPreview({ publicKeyPath: "keys/preview.pub" })]);
    assert.deepEqual(found, ["pg-replication:previewPassword: is required: pulumi config set --secret previewPassword <value>"]);
    const spec = parseStackConfig(
      { clusters: [withPreview({ publicKeyPath: "keys/preview.pub" })] },
      { ...present, previewPassword: true },
      new Set([...secrets, "previewPassword"]),
    );
    assert.deepEqual(spec.clusters[0].ssh.preview, { user: "pgr-preview", publicKeyPath: "keys/preview.pub" });
  });

  it("refuses the deploy user as the preview user", () => {
    const deployUser = (rawCluster() as { ssh: { user: string } }).ssh.user;
    const found = problems(
      [withPreview({ user: deployUser, publicKeyPath: "k" })],
      { ...present, previewPassword: true },
      new Set([...secrets, "previewPassword"]),
    );
    assert.match(found.join("\n"), /clusters\[0\]\.ssh\.preview\.user: must not be the deploy user/);
  });

  it("takes where previews run from (ssh.preview.from, CIDRs), refusing anything else under its key", () => {
    const withSecret = [{ ...present, previewPassword: true }, new Set([...secrets, "previewPassword"])] as const;
    const spec = parseStackConfig({ clusters: [withPreview({ publicKeyPath: "k", from: ["10.77.0.10/32"] })] }, ...withSecret);
    assert.deepEqual(spec.clusters[0].ssh.preview, { user: "pgr-preview", publicKeyPath: "k", from: ["10.77.0.10/32"] });
    const found = problems([withPreview({ publicKeyPath: "k", from: ["10.77.0.10/32", "runner.example.edu"] })], ...withSecret);
    assert.deepEqual(found, ['pg-replication:clusters[0].ssh.preview.from[1]: must be a CIDR, got "runner.example.edu"']);
    assert.match(
      problems([withPreview({ publicKeyPath: "k", from: [] })], ...withSecret).join("\n"),
      /ssh\.preview\.from: must not be empty/,
    );
  });

  it("takes the deploy key from an SSH agent when privateKeyPath is absent", () => {
    const c = rawCluster() as { ssh: Record<string, unknown> };
    delete c.ssh.privateKeyPath;
    const spec = parseStackConfig({ clusters: [c] }, present, secrets);
    assert.equal(spec.clusters[0].ssh.privateKeyPath, undefined);
  });
});
