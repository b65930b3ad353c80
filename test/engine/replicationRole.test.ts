// ReplicationRole through the real engine and the postgresql provider, on sandbox host pg1,
// whose configuration and admin role come from the same scripts HostConfiguration and
// AdminRole send over SSH.
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { ADMIN_ROLE } from "../../components/cluster";
import { RUN_SQL_AS_POSTGRES, renderAdminRoleSql, renderApplyHostConfig } from "../../render/hostScripts";
import { renderHbaBlock } from "../../render/pgHba";
import { renderPostgresqlConf } from "../../render/postgresqlConf";
import { scramVerifier } from "../../render/scram";
import { clusterSpec } from "../unit/fixtures";
import { EngineProject } from "../support/engine";
import { host, psql, ssh, sshOk } from "../support/sandbox";

const ROLE = "replicator";
const members = ["pg1", "pg2", "pg3"];

describe("ReplicationRole through the engine (sandbox pg1)", function () {
  this.timeout(600_000);
  const adminPassword = randomBytes(12).toString("base64");
  let replicationPassword = randomBytes(12).toString("base64");
  const project = new EngineProject("pgr-replication-role", "test/engine/fixtures/replicationRole.ts");
  const leader = () => host("pg1").address;

  before(() => {
    const spec = clusterSpec({ hosts: members.map((name) => ({ name, address: host(name).address, sshPort: 22 })) });
    sshOk("pg1", renderApplyHostConfig(renderPostgresqlConf(spec), renderHbaBlock(spec, { admin: ADMIN_ROLE, replication: ROLE })));
    sshOk("pg1", RUN_SQL_AS_POSTGRES, renderAdminRoleSql(ADMIN_ROLE, scramVerifier(ADMIN_ROLE, adminPassword)));
    psql("pg1", `drop role if exists ${ROLE}`);
    project.initStack("engine");
    project.setConfig("host", leader());
    project.setConfig("adminUser", ADMIN_ROLE);
    project.setConfig("roleName", ROLE);
    project.setConfig("adminPassword", adminPassword, true);
    project.setConfig("replicationPassword", replicationPassword, true);
  });

  after(() => project.dispose());

  const canStream = () =>
    ssh(
      "pg2",
      `read -r PGPASSWORD && export PGPASSWORD && psql -X -A -t "host=${leader()} user=${ROLE} replication=true sslmode=require" -c IDENTIFY_SYSTEM`,
      replicationPassword + "\n",
    );

  it("creates the role with `pulumi up`", () => {
    const out = project.ok(["up", "--yes", "--stack", "engine"]);
    assert.match(out, /\+ +4 created|4 created/, out);
    assert.equal(
      psql("pg1", `select rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = '${ROLE}'`),
      "t|t|f|f|f",
    );
    assert.equal(project.outputs().roleName, ROLE);
  });

  it("keeps the password out of the state and the outputs", () => {
    const state = project.ok(["stack", "export", "--stack", "engine"]);
    assert.ok(!state.includes(replicationPassword) && !state.includes(adminPassword));
    assert.ok(!state.includes(scramVerifier(ROLE, replicationPassword)), "even the verifier is encrypted");
  });

  it("lets the role stream from a member, and refuses it in every database", () => {
    const r = canStream();
    assert.equal(r.code, 0, r.stderr);
    for (const db of ["postgres", "template1"]) {
      const denied = ssh(
        "pg2",
        `read -r PGPASSWORD && export PGPASSWORD && psql -X "host=${leader()} user=${ROLE} dbname=${db} sslmode=require" -c "select 1"`,
        replicationPassword + "\n",
      );
      assert.match(denied.stderr, /pg_hba\.conf rejects connection/);
    }
  });

  it("previews no changes on a second run", () => {
    const r = project.run(["preview", "--expect-no-changes", "--stack", "engine"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /4 unchanged/);
  });

  it("changes the password in place", () => {
    replicationPassword = randomBytes(12).toString("base64");
    project.setConfig("replicationPassword", replicationPassword, true);
    const out = project.ok(["up", "--yes", "--stack", "engine"]);
    assert.match(out, /1 updated/, out);
    assert.doesNotMatch(out, /replaced/);
    assert.equal(canStream().code, 0);
  });

  it("drops the role with `pulumi destroy`", () => {
    project.ok(["destroy", "--yes", "--stack", "engine"]);
    assert.equal(psql("pg1", `select count(*) from pg_roles where rolname = '${ROLE}'`), "0");
  });
});
