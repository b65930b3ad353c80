import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { renderAdminRoleSql, renderApplyHostConfig } from "../../../render/hostScripts";
import { renderHbaBlock } from "../../../render/pgHba";
import { renderPostgresqlConf } from "../../../render/postgresqlConf";
import { scramVerifier } from "../../../render/scram";
import { clusterSpec } from "../fixtures";

describe("renderApplyHostConfig", () => {
  const spec = clusterSpec();
  const script = renderApplyHostConfig(renderPostgresqlConf(spec), renderHbaBlock(spec, { admin: "a", replication: "r" }));

  it("is valid sh", () => {
    execFileSync("sh", ["-n"], { input: script });
  });

  it("carries both files verbatim in quoted heredocs", () => {
    assert.ok(script.includes(renderPostgresqlConf(spec)));
    assert.match(script, /<<'PG_REPLICATION_EOF'/);
    assert.ok(!/<<PG_REPLICATION_EOF/.test(script), "heredocs must be quoted so $ and ` stay literal");
  });

  it("validates with the server before reloading, and restarts only for pending settings", () => {
    const validate = script.indexOf("pg_hba_file_rules");
    const reload = script.indexOf("pg_reload_conf");
    const restart = script.indexOf("restart -m fast");
    assert.ok(validate > 0 && validate < reload && reload < restart);
    assert.match(script, /pending_restart/);
  });

  it("refuses content that would end its heredoc early", () => {
    assert.throws(() => renderApplyHostConfig("x\nPG_REPLICATION_EOF\n", ""), /heredoc marker/);
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
});
