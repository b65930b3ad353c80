import { strict as assert } from "node:assert";
import { renderAdminRoleSql, renderPassfile } from "../../../render/roles";
import { scramVerifier } from "../../../render/scram";

describe("renderPassfile", () => {
  it("escapes : and \\ in the password", () => {
    assert.equal(renderPassfile("replicator", "a:b\\c"), "*:*:replication:replicator:a\\:b\\\\c\n");
  });
});

describe("renderAdminRoleSql", () => {
  it("carries a SCRAM verifier, never the password", () => {
    const sql = renderAdminRoleSql("pgr_admin", scramVerifier("pgr_admin", "s3cret"));
    assert.ok(!sql.includes("s3cret"));
    assert.match(sql, /PASSWORD 'SCRAM-SHA-256\$4096:/);
    assert.match(sql, /ALTER ROLE "pgr_admin" WITH LOGIN SUPERUSER/);
  });

  it("quotes a hostile role name", () => {
    const sql = renderAdminRoleSql(`x"; DROP TABLE t; --`, "v");
    assert.match(sql, /ALTER ROLE "x""; DROP TABLE t; --"/);
    assert.match(sql, /rolname = 'x"; DROP TABLE t; --'/);
  });

  it("carries a repair note as a one-line comment", () => {
    assert.match(renderAdminRoleSql("pgr_admin", "v", "repair:\nnow"), /^-- repair: now\n/);
  });
});
