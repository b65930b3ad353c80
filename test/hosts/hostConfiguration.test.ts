// The scripts HostConfiguration and AdminRole send, run over real SSH on sandbox host pg4, made a
// fresh Debian cluster first (the engine suites own pg1-pg3; pg2 and pg3 are only clients here).
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { ADMIN_ROLE, REPLICATION_ROLE } from "../../names";
import { renderApplyHostConfig } from "../../render/hostScripts";
import { renderAdminRoleSql } from "../../render/roles";
import { RUN_SCRIPT_AS_ROOT, RUN_SQL_AS_POSTGRES } from "../../render/sshCommands";
import { renderHbaBlock } from "../../render/pgHba";
import { HBA_PATH } from "../../postgres15";
import { INCLUDE_PATH, renderPostgresqlConf } from "../../render/postgresqlConf";
import { scramVerifier } from "../../render/scram";
import { renderTuningConf } from "../../render/tuning";
import { clusterSpec } from "../unit/fixtures";
import { host, psql, ssh, sshOk } from "../support/sandbox";

const HOST = "pg4";
// the cluster the scripts are rendered for: pg4 and two others, so pg_hba lists three members
const members = [HOST, "pg2", "pg3"];
const roles = { admin: ADMIN_ROLE, replication: REPLICATION_ROLE };

function spec(settings: Record<string, string | number> = {}) {
  return clusterSpec({
    hosts: members.map((name) => ({ name, address: host(name).address, sshPort: 22 })),
    settings,
  });
}

function script(name: string, settings: Record<string, string | number> = {}, hbaBlock?: string): string {
  const s = spec(settings);
  return renderApplyHostConfig({
    host: name,
    postgresqlConf: renderPostgresqlConf(s),
    tuningConf: renderTuningConf(s, name, { memoryMiB: 1024, cpus: 2 }, 2),
    hbaBlock: hbaBlock ?? renderHbaBlock(s, roles),
  });
}

function apply(name: string, settings: Record<string, string | number> = {}, hbaBlock?: string): string {
  return sshOk(name, RUN_SCRIPT_AS_ROOT, script(name, settings, hbaBlock));
}

const startTime = (name: string) => psql(name, "select pg_postmaster_start_time()");

describe("host configuration over SSH (sandbox)", function () {
  this.timeout(120_000);

  before(() => {
    // pg_dropcluster leaves files it did not create (our conf.d includes) behind: start from none
    sshOk(
      HOST,
      "sudo -n pg_dropcluster 15 main --stop && sudo -n rm -rf /etc/postgresql/15/main && sudo -n pg_createcluster 15 main --start >/dev/null",
    );
  });

  it("applies the include and pg_hba block, restarting once for wal_level and friends", () => {
    const report = apply(HOST);
    assert.match(report, /restarting postgresql 15 main \(primary\) for: .*listen_addresses/, report);
    assert.equal(psql(HOST, "show wal_level"), "replica");
    assert.equal(psql(HOST, "show wal_log_hints"), "on");
    assert.equal(psql(HOST, "show listen_addresses"), "*");
  });

  it("lists every member for replication and rejects the replication role elsewhere, in order", () => {
    const rules = psql(
      HOST,
      "select line_number, type, array_to_string(database, ','), array_to_string(user_name, ','), coalesce(address, ''), auth_method, coalesce(error, '') from pg_hba_file_rules order by line_number",
    )
      .split("\n")
      .map((l) => l.split("|"));
    assert.deepEqual(
      rules.filter((r) => r[6] !== ""),
      [],
      "no line the server cannot parse",
    );
    const replication = rules.filter((r) => r[2] === "replication" && r[3] === REPLICATION_ROLE).map((r) => r[4]);
    assert.deepEqual(
      replication,
      members.map((m) => host(m).address),
    );
    const firstReject = rules.findIndex((r) => r[3] === REPLICATION_ROLE && r[5] === "reject");
    const debianLocalAll = rules.findIndex((r) => r[1] === "local" && r[2] === "all" && r[3] === "all");
    assert.ok(firstReject >= 0 && firstReject < debianLocalAll, "our block precedes Debian's own lines");
  });

  it("changes nothing on a rerun", () => {
    const before = startTime(HOST);
    assert.match(apply(HOST).trim(), /^pg-replication on pg4: configuration unchanged$/);
    assert.equal(startTime(HOST), before);
  });

  it("reloads, without a restart, for a setting that does not need one", () => {
    const before = startTime(HOST);
    assert.match(apply(HOST, { work_mem: "24MB" }), /^pg-replication on pg4: reloaded postgresql 15 main$/m);
    assert.equal(psql(HOST, "show work_mem"), "24MB");
    assert.equal(startTime(HOST), before);
    apply(HOST);
  });

  it("refuses a pg_hba block the server cannot parse, and restores the previous file", () => {
    const hbaBefore = sshOk(HOST, `sudo md5sum ${HBA_PATH}`);
    const bad = renderHbaBlock(spec(), roles).replace("# END", "host all all 10.0.0.0/8 no-such-method\n# END");
    const r = ssh(HOST, RUN_SCRIPT_AS_ROOT, script(HOST, {}, bad));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /pg4: checking the new files with the server's own parser failed: the server refuses the new configuration: .*no-such-method/,
    );
    assert.equal(sshOk(HOST, `sudo md5sum ${HBA_PATH}`), hbaBefore);
    assert.match(apply(HOST).trim(), /configuration unchanged$/);
  });

  it("refuses a setting value the server cannot read, naming it, and keeps the previous include", () => {
    const before = sshOk(HOST, `sudo md5sum ${INCLUDE_PATH}`);
    const r = ssh(HOST, RUN_SCRIPT_AS_ROOT, script(HOST, { work_mem: "12 parsecs" }));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /pg4: checking the new files with the server's own parser failed: .*invalid value for parameter "work_mem": "12 parsecs"/,
    );
    assert.equal(sshOk(HOST, `sudo md5sum ${INCLUDE_PATH}`), before);
    assert.equal(psql(HOST, "select count(*) from pg_file_settings where error is not null"), "0");
  });

  it("leaves a stopped server without standby.signal stopped (a non-leader never starts writable), its files installed", () => {
    sshOk(HOST, "sudo pg_ctlcluster 15 main stop -m fast");
    const before = sshOk(HOST, `sudo md5sum ${INCLUDE_PATH}`);
    const out = ssh(HOST, RUN_SCRIPT_AS_ROOT, script(HOST, { work_mem: "24MB" }));
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /is down and not a standby: left stopped/);
    assert.match(out.stdout, /configuration installed; applied when the server starts/);
    assert.notEqual(sshOk(HOST, `sudo md5sum ${INCLUDE_PATH}`), before, "the new include is in place");
    assert.notEqual(ssh(HOST, "sudo pg_ctlcluster 15 main status").code, 0, "still stopped");
    sshOk(HOST, "sudo pg_ctlcluster 15 main start");
    assert.equal(psql(HOST, "show work_mem"), "24MB");
    assert.match(apply(HOST), /configuration unchanged|reloaded/);
  });

  it("finishes what an interrupted run left: files in place that the server has not read", () => {
    apply(HOST, { work_mem: "20MB" });
    // as a run cut between installing and reloading leaves it: the new include, never read
    sshOk(HOST, `sudo tee ${INCLUDE_PATH} >/dev/null`, renderPostgresqlConf(spec({ work_mem: "28MB" })));
    // written in the same second as the reload before it, a millisecond later: whole seconds cannot tell
    const loaded = Number(psql(HOST, "select extract(epoch from pg_conf_load_time())"));
    sshOk(HOST, `sudo touch -d @${(loaded + 0.001).toFixed(6)} ${INCLUDE_PATH}`);
    assert.equal(psql(HOST, "show work_mem"), "20MB");
    const out = apply(HOST, { work_mem: "28MB" });
    assert.match(out, /the server has not applied them all .*: applying them/);
    assert.equal(psql(HOST, "show work_mem"), "28MB");
    assert.match(apply(HOST, { work_mem: "28MB" }), /configuration unchanged/);
  });

  describe("roles", () => {
    const adminPassword = randomBytes(12).toString("base64");
    const replicationPassword = randomBytes(12).toString("base64");
    const leader = () => host(HOST).address;
    // A client in the controller's place (10.77.0.254), over TLS as the provider connects.
    const fromController = (user: string, password: string, extra: object = {}) =>
      new Client({ host: leader(), port: 5432, user, password, database: "postgres", ssl: { rejectUnauthorized: false }, ...extra });

    before(() => {
      sshOk(HOST, RUN_SQL_AS_POSTGRES, renderAdminRoleSql(ADMIN_ROLE, scramVerifier(ADMIN_ROLE, adminPassword)));
      psql(
        HOST,
        `drop role if exists ${REPLICATION_ROLE}; create role ${REPLICATION_ROLE} login replication password '${scramVerifier(REPLICATION_ROLE, replicationPassword)}'`,
      );
      if (!psql(HOST, "select 1 from pg_database where datname = 'appdb'")) psql(HOST, "create database appdb");
    });

    it("lets the controller log in as the admin role over TLS with its password", async () => {
      const client = fromController(ADMIN_ROLE, adminPassword);
      await client.connect();
      try {
        const r = await client.query(
          "select current_user, rolsuper, host(inet_client_addr()) as addr, ssl from pg_roles, pg_stat_ssl where rolname = current_user and pid = pg_backend_pid()",
        );
        assert.deepEqual(r.rows[0], { current_user: ADMIN_ROLE, rolsuper: true, addr: "10.77.0.254", ssl: true });
      } finally {
        await client.end();
      }
    });

    it("refuses the admin role with a wrong password", async () => {
      const client = fromController(ADMIN_ROLE, "wrong");
      await assert.rejects(client.connect(), /password authentication failed/);
    });

    it("bootstraps the admin role idempotently", () => {
      sshOk(HOST, RUN_SQL_AS_POSTGRES, renderAdminRoleSql(ADMIN_ROLE, scramVerifier(ADMIN_ROLE, adminPassword)));
      assert.equal(psql(HOST, `select count(*) from pg_roles where rolname = '${ADMIN_ROLE}'`), "1");
    });

    // The password travels on stdin, never in a command line.
    const fromMember = (member: string, conninfo: string, sql: string) =>
      ssh(
        member,
        `read -r PGPASSWORD && export PGPASSWORD && psql -X -A -t ${JSON.stringify(conninfo)} -c ${JSON.stringify(sql)}`,
        replicationPassword + "\n",
      );

    it("lets the replication role stream from a member", () => {
      const r = fromMember(
        "pg2",
        `host=${leader()} user=${REPLICATION_ROLE} replication=true sslmode=require dbname=postgres`,
        "IDENTIFY_SYSTEM",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^\d+\|1\|/);
    });

    it("refuses the replication role in every database", () => {
      for (const db of ["postgres", "template1", "appdb"]) {
        const r = fromMember("pg2", `host=${leader()} user=${REPLICATION_ROLE} dbname=${db} sslmode=require`, "select 1");
        assert.notEqual(r.code, 0, `${db} let the replication role in`);
        assert.match(r.stderr, /pg_hba\.conf rejects connection for host "10\.77\.0\.12", user "replicator", database "\w+"/);
      }
      const local = ssh(HOST, `cd / && sudo -u postgres psql -X -U ${REPLICATION_ROLE} -d postgres -c "select 1"`);
      assert.match(local.stderr, /pg_hba\.conf rejects connection/);
    });

    it("refuses replication from an address outside the cluster", async () => {
      const client = fromController(REPLICATION_ROLE, replicationPassword, { replication: true });
      await assert.rejects(client.connect(), /no pg_hba\.conf entry for replication connection from host "10\.77\.0\.254"/);
    });
  });
});
