import { strict as assert } from "node:assert";
import { ConfigError } from "../../../config";
import { PREVIEW_ROLE } from "../../../names";
import { loginFromOverNetwork, setLoginFromChecker } from "../../../observe/adminLogin";
import { HostObservation } from "../../../observe/hosts";
import { checkPreviewLogins, identityFromEnv } from "../../../observe/identity";
import { clusterSpec } from "../fixtures";

describe("identityFromEnv", () => {
  it("is the deploy identity unless told otherwise", () => {
    assert.deepEqual(identityFromEnv({}), { kind: "deploy" });
  });

  it("reads the preview identity's key file and password", () => {
    assert.deepEqual(identityFromEnv({ PGR_IDENTITY: "preview", PGR_PREVIEW_SSH_KEY_FILE: "/k", PGR_PREVIEW_DB_PASSWORD: "p" }), {
      kind: "preview",
      sshKeyFile: "/k",
      dbPassword: "p",
    });
  });

  it("names every variable a preview identity lacks", () => {
    assert.throws(
      () => identityFromEnv({ PGR_IDENTITY: "preview" }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 2 &&
        /^PGR_PREVIEW_SSH_KEY_FILE: is required/.test(e.problems[0]) &&
        /^PGR_PREVIEW_DB_PASSWORD: is required/.test(e.problems[1]),
    );
  });

  it("refuses an unknown identity", () => {
    assert.throws(() => identityFromEnv({ PGR_IDENTITY: "root" }), /PGR_IDENTITY: must be deploy or preview/);
  });
});

describe("where a pull request's preview runs (C2)", () => {
  const certificate = { sslRootCert: "/ca.crt", adminCertificate: { cert: "/admin.crt", key: "/admin.key" } };
  let cluster = clusterSpec({ adminAddresses: ["10.77.0.250/31", "fd00::/64"], ...certificate });
  const observed = [{ pg1: { roles: [PREVIEW_ROLE] } as unknown as HostObservation }];
  const asked: string[] = [];
  const previewFrom = async (address: string | undefined) => {
    setLoginFromChecker(async (at) => {
      asked.push(`${at.user}@${at.host}`);
      return { login: "ok", from: address };
    });
    try {
      return await checkPreviewLogins([cluster], observed, "preview-pw");
    } finally {
      setLoginFromChecker(loginFromOverNetwork);
    }
  };

  it("needs attention when the leader sees the preview come from an address adminAddresses admits", async () => {
    const r = await previewFrom("10.77.0.251");
    assert.deepEqual(r.logins, ["ok"]);
    assert.deepEqual(asked, ["pgr_preview@10.77.0.11"]);
    assert.equal(r.warnings.length, 1);
    assert.match(
      r.warnings[0],
      /^needs attention: pg-replication:clusters\[0\]\.adminAddresses: 10\.77\.0\.250\/31 admits 10\.77\.0\.251, where this preview runs: the admin password, which a preview decrypts, logs in from here/,
    );
    assert.match(r.warnings[0], /ssh\.preview\.from/);
    assert.match((await previewFrom("fd00::7")).warnings.join("\n"), /fd00::\/64 admits fd00::7/);
  });

  it("needs attention when the preview runs on a member, where the replication password streams WAL", async () => {
    const r = await previewFrom("10.77.0.12");
    assert.deepEqual(r.warnings.length, 1);
    assert.match(r.warnings[0], /^needs attention: pg-replication:clusters\[0\]\.hosts\[1\]: this preview runs on pg2 \(10\.77\.0\.12\)/);
  });

  it("says nothing when the preview runs from elsewhere, or the address cannot be read", async () => {
    assert.deepEqual((await previewFrom("10.77.0.10")).warnings, []);
    assert.deepEqual((await previewFrom("10.77.0.249")).warnings, []);
    assert.deepEqual((await previewFrom(undefined)).warnings, []);
  });

  it("needs attention when the admin has no client certificate: its password alone logs in from adminAddresses", async () => {
    const before = cluster;
    cluster = clusterSpec({ adminAddresses: ["10.77.0.250/31"] });
    try {
      assert.deepEqual((await previewFrom("10.77.0.10")).warnings, [
        "needs attention: pg-replication:clusters[0].adminCertificate: is not set, so the admin password, which a preview decrypts, is all a login from adminAddresses needs: give the admin role a client certificate whose key only the deploy job holds",
      ]);
    } finally {
      cluster = before;
    }
  });
});
