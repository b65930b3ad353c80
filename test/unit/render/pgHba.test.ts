import { strict as assert } from "node:assert";
import { HBA_BEGIN, HBA_END, renderAdminOnlyHba, renderHbaBlock } from "../../../render/pgHba";
import { clusterSpec } from "../fixtures";

const roles = { admin: "pgr_admin", replication: "replicator" };
const fields = (block: string) =>
  block
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(/\s+/));

describe("renderHbaBlock", () => {
  it("lets every member stream from every member", () => {
    const rows = fields(renderHbaBlock(clusterSpec(), roles)).filter((f) => f[1] === "replication");
    assert.deepEqual(
      rows.map((f) => f[3]),
      ["10.77.0.11/32", "10.77.0.12/32", "10.77.0.13/32"],
    );
    assert.ok(rows.every((f) => f[2] === "replicator" && f[4] === "scram-sha-256"));
  });

  it("rejects the replication role from every database before any client line", () => {
    const rows = fields(renderHbaBlock(clusterSpec(), roles));
    const rejects = rows.map((f, i) => [f, i] as const).filter(([f]) => f.includes("reject"));
    assert.deepEqual(
      rejects.map(([f]) => f.slice(0, 3).join(" ")),
      ["host all replicator", "host all replicator", "local all replicator"],
    );
    const firstClient = rows.findIndex((f) => f[2] === "app");
    assert.ok(rejects.every(([, i]) => i < firstClient));
  });

  it("puts the application's lines on every member, and the admin's", () => {
    const block = renderHbaBlock(clusterSpec(), roles);
    assert.match(block, /^hostssl\s+appdb\s+app\s+10\.77\.0\.0\/24\s+scram-sha-256$/m);
    assert.match(block, /^hostssl\s+all\s+pgr_admin\s+10\.77\.0\.254\/32\s+scram-sha-256$/m);
    assert.ok(block.startsWith(HBA_BEGIN + "\n") && block.endsWith(HBA_END + "\n"));
  });

  it("asks the admin for its client certificate beside its password when the cluster names one, in both blocks", () => {
    const c = clusterSpec({ sslRootCert: "/ca.crt", adminCertificate: { cert: "/a.crt", key: "/a.key" } });
    assert.match(renderHbaBlock(c, roles), /^hostssl\s+all\s+pgr_admin\s+10\.77\.0\.254\/32\s+scram-sha-256 clientcert=verify-full$/m);
    assert.match(
      renderAdminOnlyHba(c, "pgr_admin"),
      /^hostssl\s+all\s+pgr_admin\s+10\.77\.0\.254\/32\s+scram-sha-256 clientcert=verify-full$/m,
    );
    assert.doesNotMatch(renderHbaBlock(clusterSpec(), roles), /clientcert/);
  });

  it("admits the preview role from ssh.preview.from when set, from adminAddresses otherwise", () => {
    const preview = (c: ReturnType<typeof clusterSpec>) =>
      fields(renderHbaBlock(c, { ...roles, preview: "pgr_preview" }))
        .filter((f) => f[2] === "pgr_preview")
        .map((f) => f[3]);
    const c = clusterSpec();
    assert.deepEqual(preview({ ...c, ssh: { ...c.ssh, preview: { user: "pgr-preview", publicKeyPath: "k" } } }), ["10.77.0.254/32"]);
    assert.deepEqual(preview({ ...c, ssh: { ...c.ssh, preview: { user: "pgr-preview", publicKeyPath: "k", from: ["10.77.0.10/32"] } } }), [
      "10.77.0.10/32",
    ]);
  });

  it("admits members, the admin and clients over TLS only, unless the cluster's sslmode is disable", () => {
    const types = (sslmode: "disable" | "require" | "verify-full") =>
      fields(renderHbaBlock(clusterSpec({ sslmode }), roles)).map((f) => `${f[0]} ${f[f.length - 1]}`);
    for (const sslmode of ["require", "verify-full"] as const) {
      const lines = types(sslmode);
      assert.ok(
        lines.filter((l) => l.endsWith("scram-sha-256")).every((l) => l.startsWith("hostssl ")),
        lines.join("\n"),
      );
      assert.deepEqual(
        lines.filter((l) => l.endsWith("reject")),
        ["host reject", "host reject", "local reject"],
        "the rejects match every connection, TLS or not",
      );
    }
    assert.ok(types("disable").every((l) => !l.startsWith("hostssl")));
  });

  it("quotes names pg_hba would read as keywords or split", () => {
    const block = renderHbaBlock(clusterSpec({ clients: [{ database: "all", user: "my user", address: "10.0.0.0/8" }] }), roles);
    assert.match(block, /^hostssl\s+"all"\s+"my user"\s+10\.0\.0\.0\/8/m);
  });
});
