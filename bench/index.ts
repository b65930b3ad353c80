// make bench: what the engine and the hosts cost before any real work, on the sandbox.
// Prints a table; asserts nothing (timings belong here, not in tests).
import { randomBytes } from "node:crypto";
import { ADMIN_ROLE, REPLICATION_ROLE } from "../components/cluster";
import { RUN_SQL_AS_POSTGRES, renderAdminRoleSql, renderApplyHostConfig } from "../render/hostScripts";
import { renderHbaBlock } from "../render/pgHba";
import { renderPostgresqlConf } from "../render/postgresqlConf";
import { scramVerifier } from "../render/scram";
import { EngineProject } from "../test/support/engine";
import { host, sshOk } from "../test/support/sandbox";
import { clusterSpec } from "../test/unit/fixtures";

const ROUNDS = 3;
const rows: [string, number[]][] = [];

function measure(label: string, fn: () => void, rounds = ROUNDS): void {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  rows.push([label, times]);
  process.stderr.write(`  ${label}: ${times.map((s) => s.toFixed(2)).join(", ")} s\n`);
}

const members = ["pg1", "pg2", "pg3"];
const spec = clusterSpec({ hosts: members.map((name) => ({ name, address: host(name).address, sshPort: 22 })) });
const applyScript = renderApplyHostConfig({
  host: "bench",
  postgresqlConf: renderPostgresqlConf(spec),
  tuningConf: "",
  hbaBlock: renderHbaBlock(spec, { admin: ADMIN_ROLE, replication: REPLICATION_ROLE }),
});
const adminPassword = randomBytes(12).toString("base64");

for (const m of members) sshOk(m, applyScript);
sshOk("pg1", RUN_SQL_AS_POSTGRES, renderAdminRoleSql(ADMIN_ROLE, scramVerifier(ADMIN_ROLE, adminPassword)));

measure("ssh round trip (true)", () => sshOk("pg2", "true"));
measure("host configuration, unchanged (1 host)", () => sshOk("pg2", applyScript));
measure("host configuration, unchanged (3 hosts, one after another)", () => members.forEach((m) => sshOk(m, applyScript)));

const project = new EngineProject("pgr-bench", "test/engine/fixtures/replicationRole.ts");
try {
  project.initStack("bench");
  project.setConfig("host", host("pg1").address);
  project.setConfig("adminUser", ADMIN_ROLE);
  project.setConfig("roleName", "bench_replicator");
  project.setConfig("adminPassword", adminPassword, true);
  project.setConfig("replicationPassword", randomBytes(12).toString("base64"), true);
  measure("pulumi version", () => project.ok(["version"]));
  measure("pulumi up, 1 role created, then destroy", () => {
    project.ok(["up", "--yes", "--skip-preview"]);
    project.ok(["destroy", "--yes", "--skip-preview"]);
  });
  project.ok(["up", "--yes", "--skip-preview"]);
  measure("pulumi preview, no changes", () => project.ok(["preview"]));
  measure("pulumi up, no changes", () => project.ok(["up", "--yes", "--skip-preview"]));
  project.ok(["destroy", "--yes", "--skip-preview"]);
} finally {
  project.dispose();
}

const w = Math.max(...rows.map(([l]) => l.length));
console.log(`\n${"what".padEnd(w)}  ${"min s".padStart(7)}  ${"median s".padStart(8)}  ${"max s".padStart(7)}  runs`);
for (const [label, t] of rows) {
  const s = [...t].sort((a, b) => a - b);
  console.log(
    `${label.padEnd(w)}  ${s[0].toFixed(2).padStart(7)}  ${s[Math.floor(s.length / 2)].toFixed(2).padStart(8)}  ${s[s.length - 1].toFixed(2).padStart(7)}  ${t.length}`,
  );
}
