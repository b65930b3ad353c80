import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  renderApplyHostConfig,
  renderDemoteScript,
  renderDropSlotsScript,
  renderFenceScript,
  renderPromoteScript,
  renderStandbyConf,
  renderStandbyScript,
  StandbyScript,
} from "../../../render/hostScripts";
import { renderHbaBlock } from "../../../render/pgHba";
import { renderPostgresqlConf } from "../../../render/postgresqlConf";
import { renderTuningConf } from "../../../render/tuning";
import { assertGolden } from "../../support/golden";
import { clusterSpec } from "../fixtures";

const bashSyntax = (script: string) => execFileSync("bash", ["-n"], { input: script });

describe("renderApplyHostConfig", () => {
  const spec = clusterSpec();
  const conf = renderPostgresqlConf(spec);
  const tuning = renderTuningConf(spec, "pg1", { memoryMiB: 8192, cpus: 4 }, 4);
  const config = {
    host: "pg1",
    postgresqlConf: conf,
    tuningConf: tuning,
    hbaBlock: renderHbaBlock(spec, { admin: "a", replication: "r" }),
  };
  const script = renderApplyHostConfig(config);

  it("renders host/configure.sh with its header, as the golden files show", () => {
    bashSyntax(script);
    assertGolden("configure.sh", script);
    assertGolden("configure-settle.sh", renderApplyHostConfig({ ...config, settle: true }));
  });

  it("carries every file verbatim in quoted heredocs", () => {
    assert.ok(script.includes(conf) && script.includes(tuning));
    assert.match(script, /<<'PG_REPLICATION_EOF'/);
    assert.ok(!/<<PG_REPLICATION_EOF/.test(script), "heredocs must be quoted so $ and ` stay literal");
  });

  it("refuses content that would end its heredoc early", () => {
    assert.throws(
      () => renderApplyHostConfig({ host: "pg1", postgresqlConf: "x\nPG_REPLICATION_EOF\n", tuningConf: "", hbaBlock: "" }),
      /heredoc marker/,
    );
  });
});

const standbyOf: StandbyScript = {
  host: "pg2",
  leaderName: "pg1",
  leaderAddress: "10.77.0.11",
  port: 5432,
  replicationRole: "replicator",
  slot: "pgr_pg2",
  passfile: "/var/lib/postgresql/.pg-replication.pgpass",
  rebuild: "",
  sslmode: "require",
};

describe("renderStandbyScript", () => {
  const s: StandbyScript = {
    host: "pg2",
    leaderName: "pg1",
    leaderAddress: "10.77.0.11",
    port: 5432,
    replicationRole: "replicator",
    slot: "pgr_pg2",
    passfile: "/var/lib/postgresql/.pg-replication.pgpass",
    rebuild: "",
    sslmode: "require",
  };
  const script = renderStandbyScript(s);

  it("renders host/standby.sh with its header, as the golden file shows", () => {
    bashSyntax(script);
    assertGolden("standby.sh", renderStandbyScript({ ...s, observed: "postgresql was not running" }));
  });

  it("names the stanza a rebuild restores from only when the cluster rebuilds from its backups", () => {
    assert.doesNotMatch(script, /^rebuild_stanza=/m);
    assert.match(renderStandbyScript({ ...s, rebuildStanza: "dev-main" }), /^rebuild_stanza=dev-main$/m);
  });

  it("keeps the password out: primary_conninfo names the passfile", () => {
    const conf = renderStandbyConf(s);
    assert.match(
      conf,
      /^primary_conninfo = 'host=''10\.77\.0\.11'' port=''5432'' user=''replicator'' passfile=''\/var\/lib\/postgresql\/\.pg-replication\.pgpass''/m,
    );
    assert.match(conf, /^primary_slot_name = pgr_pg2$/m);
    assert.doesNotMatch(script, /password=/);
  });

  it("connects to the leader with the cluster's sslmode, never a weaker one", () => {
    for (const sslmode of ["require", "verify-full"] as const) {
      const conf = renderStandbyConf({ ...s, sslmode });
      assert.match(conf, new RegExp(`^primary_conninfo = '.*sslmode=''${sslmode}''`, "m"));
      assert.match(renderStandbyScript({ ...s, sslmode }), new RegExp(`^conn=.*sslmode=.*${sslmode}`, "m"));
      assert.doesNotMatch(renderStandbyScript({ ...s, sslmode }), /prefer/);
    }
  });
});

describe("renderDemoteScript and renderPromoteScript", () => {
  it("render host/demote.sh and host/promote.sh with their headers, as the golden files show", () => {
    const demote = renderDemoteScript({
      host: "pg1",
      leaderName: "pg2",
      leaderAddress: "10.77.0.12",
      port: 5432,
      replicationRole: "replicator",
      passfile: "/var/lib/postgresql/.pg-replication.pgpass",
      sslmode: "require",
      leaderSystemId: "7431",
    });
    const promote = renderPromoteScript({ host: "pg2", downAddresses: ["10.77.0.11"] });
    bashSyntax(demote);
    bashSyntax(promote);
    assertGolden("demote.sh", demote);
    assertGolden("promote.sh", promote);
  });

  it("promote with no host marked down: an empty list", () => {
    assert.match(renderPromoteScript({ host: "pg2", downAddresses: [] }), /^down_addresses=\(\)$/m);
  });
});

describe("renderFenceScript", () => {
  it("renders host/fence.sh with its header, as the golden file shows", () => {
    const script = renderFenceScript({ host: "pg1", observed: "running as a primary while marked down" });
    bashSyntax(script);
    assertGolden("fence.sh", script);
  });

  it("stops a primary with a fast shutdown and sets start.conf to manual under the mark the standby step undoes", () => {
    const script = renderFenceScript({ host: "pg1" });
    assert.match(script, /^start_conf=\/etc\/postgresql\/15\/main\/start\.conf$/m);
    assert.match(script, /^fence_mark='# pg-replication fenced this member'$/m);
    assert.match(script, /try pg_ctlcluster "\$\{cluster\[@\]\}" stop -m fast/);
    assert.match(renderStandbyScript(standbyOf), /^fence_mark='# pg-replication fenced this member'$/m);
  });
});

describe("renderDropSlotsScript", () => {
  it("renders host/drop-slots.sh with the slots the plan saw, as the golden file shows", () => {
    const script = renderDropSlotsScript({ host: "pg1", slots: [{ name: "pgr_pg4", restartLsn: "0/3000148" }] });
    bashSyntax(script);
    assertGolden("drop-slots.sh", script);
    assert.match(script, /^slots=\(pgr_pg4@0\/3000148\)$/m);
  });

  it("with no slot to drop: an empty list", () => {
    assert.match(renderDropSlotsScript({ host: "pg1", slots: [] }), /^slots=\(\)$/m);
  });
});

describe("host/", () => {
  const HOST_DIR = join(__dirname, "..", "..", "..", "host");
  const files = [
    "lib.sh",
    "configure.sh",
    "standby.sh",
    "demote.sh",
    "promote.sh",
    "drop-slots.sh",
    ...readdirSync(join(HOST_DIR, "migration")).map((f) => `migration/${f}`),
  ];

  it("never calls Debian's psql wrapper, which parses the files being checked", () => {
    for (const file of files) {
      const code = readFileSync(join(HOST_DIR, file), "utf8")
        .split("\n")
        .filter((l) => !l.trim().startsWith("#"));
      assert.deepEqual(
        code.filter((l) => /\bpsql\b/.test(l.replace(/"\$pgbin\/psql"/g, ""))),
        [],
        `${file} runs psql by another path than "$pgbin/psql"`,
      );
    }
  });
});
