import { strict as assert } from "node:assert";
import { renderPostgresqlConf } from "../../../render/postgresqlConf";
import { clusterSpec } from "../fixtures";

describe("renderPostgresqlConf", () => {
  it("sets what streaming and promotion need", () => {
    const conf = renderPostgresqlConf(clusterSpec());
    for (const line of ["wal_level = replica", "wal_log_hints = on", "hot_standby = on", "listen_addresses = '*'", "port = 5432"]) {
      assert.ok(conf.split("\n").includes(line), `missing ${line} in\n${conf}`);
    }
  });

  it("checks client certificates against the cluster's CA, where each member has it, once the admin has one", () => {
    const withCert = renderPostgresqlConf(clusterSpec({ sslRootCert: "/ca.crt", adminCertificate: { cert: "/a.crt", key: "/a.key" } }));
    assert.ok(withCert.includes("ssl_ca_file = '/var/lib/postgresql/.postgresql/root.crt'\n"), withCert);
    assert.ok(!renderPostgresqlConf(clusterSpec()).includes("ssl_ca_file"));
  });

  it("lets a cluster's settings override the defaults, sorted and stable", () => {
    const conf = renderPostgresqlConf(clusterSpec({ settings: { wal_level: "logical", work_mem: "64MB" } }));
    assert.ok(conf.includes("wal_level = logical\n"));
    assert.ok(!conf.includes("wal_level = replica"));
    const names = conf
      .split("\n")
      .filter((l) => l.includes(" = "))
      .map((l) => l.split(" = ")[0]);
    assert.deepEqual(names, [...names].sort());
    assert.equal(conf, renderPostgresqlConf(clusterSpec({ settings: { work_mem: "64MB", wal_level: "logical" } })));
  });
});
