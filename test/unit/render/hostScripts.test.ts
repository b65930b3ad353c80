import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import {
  renderDemoteScript,
  renderPromoteScript,
  renderApplyHostConfig,
  renderStandbyConf,
  renderStandbyScript,
  StandbyScript,
} from "../../../render/hostScripts";
import { renderHbaBlock } from "../../../render/pgHba";
import { renderPostgresqlConf } from "../../../render/postgresqlConf";
import { renderTuningConf } from "../../../render/tuning";
import { clusterSpec } from "../fixtures";

const bashSyntax = (script: string) => execFileSync("bash", ["-n"], { input: script });

describe("renderApplyHostConfig", () => {
  const spec = clusterSpec();
  const conf = renderPostgresqlConf(spec);
  const tuning = renderTuningConf(spec, "pg1", { memoryMiB: 8192, cpus: 4 }, 4);
  const script = renderApplyHostConfig({
    host: "pg1",
    postgresqlConf: conf,
    tuningConf: tuning,
    hbaBlock: renderHbaBlock(spec, { admin: "a", replication: "r" }),
  });

  it("is valid bash", () => bashSyntax(script));

  it("carries every file verbatim in quoted heredocs", () => {
    assert.ok(script.includes(conf) && script.includes(tuning));
    assert.match(script, /<<'PG_REPLICATION_EOF'/);
    assert.ok(!/<<PG_REPLICATION_EOF/.test(script), "heredocs must be quoted so $ and ` stay literal");
  });

  it("validates with the server before reloading, and restarts only for pending settings", () => {
    const validate = script.indexOf("pg_hba_file_rules");
    const reload = script.indexOf('step="reloading"');
    const restart = script.indexOf("restart -m fast || die");
    assert.ok(validate > 0 && validate < reload && reload < restart);
    assert.match(script, /pending_restart/);
  });

  it("never calls Debian's psql wrapper, which parses the files being checked", () => {
    assert.doesNotMatch(script.replace(/"\$pgbin\/psql"/g, ""), /\bpsql\b(?! -X -A -t -q -v ON_ERROR_STOP)/);
    assert.match(script, /as_postgres "\$pgbin\/psql"/);
  });

  it("restores the files from an exit trap, whatever line fails", () => {
    assert.match(script, /trap on_exit EXIT/);
    assert.ok(script.indexOf("trap on_exit EXIT") < script.indexOf('install_file "$tmp/conf"'));
  });

  it("refuses content that would end its heredoc early", () => {
    assert.throws(
      () => renderApplyHostConfig({ host: "pg1", postgresqlConf: "x\nPG_REPLICATION_EOF\n", tuningConf: "", hbaBlock: "" }),
      /heredoc marker/,
    );
  });
});

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
  };
  const script = renderStandbyScript(s);

  it("is valid bash", () => bashSyntax(script));

  it("keeps the password out: primary_conninfo names the passfile", () => {
    const conf = renderStandbyConf(s);
    assert.match(
      conf,
      /primary_conninfo = 'host=10\.77\.0\.11 port=5432 user=replicator passfile=\/var\/lib\/postgresql\/\.pg-replication\.pgpass application_name=pg2/,
    );
    assert.match(conf, /primary_slot_name = 'pgr_pg2'/);
    assert.doesNotMatch(script, /password=/);
  });

  it("only rebuilds a member that is not already a standby with the same token", () => {
    const keep = script.indexOf('if in_recovery && [ "$done_token" = "$token" ]');
    const wipe = script.indexOf('mv "$datadir" "$prev"');
    assert.ok(keep > 0 && keep < wipe);
    assert.match(script, /holds databases/);
  });
});

describe("renderDemoteScript and renderPromoteScript", () => {
  it("are valid bash", () => {
    bashSyntax(renderDemoteScript({ host: "pg1", leaderName: "pg2", leaderSystemId: "7431" }));
    bashSyntax(renderPromoteScript({ host: "pg2", downAddresses: ["10.77.0.11"] }));
  });

  it("demote only a running primary of the same cluster, with a fast shutdown", () => {
    const script = renderDemoteScript({ host: "pg1", leaderName: "pg2", leaderSystemId: "7431" });
    assert.match(script, /leader_system=7431/);
    assert.ok(script.indexOf('[ "$own_system" != "$leader_system" ]') < script.indexOf("stop -m fast"));
  });

  it("promote only once the old leader is gone, unless it is marked down", () => {
    const script = renderPromoteScript({ host: "pg2", downAddresses: ["10.77.0.11"] });
    assert.match(script, /down_addresses=\(10\.77\.0\.11\)/);
    assert.ok(script.indexOf("a leader that is alive") < script.indexOf('pg_ctl" promote'));
  });
});
