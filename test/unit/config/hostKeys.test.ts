import { strict as assert } from "node:assert";
import { ConfigError, parseStackConfig } from "../../../config";
import { productionProblems } from "../../../config/production";
import { rawCluster } from "../fixtures";

const present = { adminPassword: true, replicationPassword: true };
const secrets = new Set(["adminPassword", "replicationPassword"]);
const withSsh = (ssh: Record<string, unknown>) => ({ ...rawCluster(), ssh: { user: "deploy", privateKeyPath: "/k", ...ssh } });

describe("pinned host keys (knownHostsPath)", () => {
  it("are required: a cluster without them is refused, naming the key", () => {
    assert.throws(
      () => parseStackConfig({ clusters: [withSsh({})] }, present, secrets),
      (e: unknown) =>
        e instanceof ConfigError && e.problems.some((p) => /^pg-replication:clusters\[0\]\.ssh\.knownHostsPath: is required/.test(p)),
    );
  });

  it("can be gone without only by saying so, and never on a production stack", () => {
    const spec = parseStackConfig({ clusters: [withSsh({ insecureSkipHostKeyCheck: true })] }, present, secrets);
    assert.equal(spec.clusters[0].ssh.insecureSkipHostKeyCheck, true);
    assert.deepEqual(productionProblems(spec.clusters[0], 0, "staging"), []);
    for (const stack of ["production", "sandbox-production"])
      assert.match(
        productionProblems(spec.clusters[0], 0, stack)[0],
        /clusters\[0\]\.ssh\.insecureSkipHostKeyCheck: is refused on a production stack/,
      );
    assert.throws(
      () => parseStackConfig({ clusters: [withSsh({ insecureSkipHostKeyCheck: "yes" })] }, present, secrets),
      /must be true or false/,
    );
  });
});

describe("verify-ca and verify-full", () => {
  it("ask for the CA the members verify each other with, naming the key", () => {
    for (const sslmode of ["verify-ca", "verify-full"])
      assert.throws(
        () => parseStackConfig({ clusters: [{ ...withSsh({ knownHostsPath: "/k" }), sslmode }] }, present, secrets),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.problems.some((p) => new RegExp(`clusters\\[0\\]\\.sslRootCert: is required with sslmode ${sslmode}`).test(p)),
      );
    const spec = parseStackConfig(
      { clusters: [{ ...withSsh({ knownHostsPath: "/k" }), sslmode: "verify-full", sslRootCert: "/ca.crt" }] },
      present,
      secrets,
    );
    assert.equal(spec.clusters[0].sslRootCert, "/ca.crt");
  });
});
