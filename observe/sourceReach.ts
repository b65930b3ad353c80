// The preflight the controller cannot make alone: does the source admit the target's leader,
// which is where the subscription and the schema copy connect from? Asked over SSH on that
// leader with the source's password on stdin (a passfile that lives for the one check). Returns
// a problem naming the key to look at, or undefined.
import { spawn } from "node:child_process";
import { ClusterSpec, HostSpec, MigrationSpec, NAMESPACE } from "../config";
import { PG_BIN } from "../postgres15";
import { shellQuote } from "../render/quote";
import { SourceAccess, renderSourcePassfile, sourceConninfo } from "../render/migrationScripts";
import { sshArgs } from "./hosts";

const TIMEOUT_MS = 30_000;

/**
 * The script the leader runs: psql to the source with a passfile read from stdin; prints ok or
 * psql's last line. Plain POSIX sh: it runs under the login shell, which may be dash. The
 * passfile reaches psql as PGPASSFILE, so the conninfo is fixed text.
 */
export function renderReachScript(source: SourceAccess): string {
  const conninfo = sourceConninfo(source, "pg-replication preflight").replace(/ ?passfile='[^']*'/, "");
  return `set -u
tmp=$(mktemp -d) && chmod 700 "$tmp" && trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/pgpass" && chmod 600 "$tmp/pgpass"
if out=$(cd / && timeout 20 env PGCONNECT_TIMEOUT=10 PGPASSFILE="$tmp/pgpass" ${PG_BIN}/psql -X -A -t -q -w -d ${shellQuote(conninfo)} -c 'select 1' 2>&1); then echo ok; else printf '%s\\n' "$out"; fi`;
}

export function reachProblem(m: MigrationSpec, leader: HostSpec, answer: string): string | undefined {
  if (answer.trim() === "ok") return undefined;
  const lines = answer
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const line = (lines.find((l) => /FATAL|error/i.test(l)) ?? lines[lines.length - 1] ?? "").replace(/^psql: (error: )?/, "");
  const from = `the target leader ${leader.name} (${leader.address})`;
  if (/no pg_hba\.conf entry|rejects connection/.test(line))
    return `${NAMESPACE}:migration.source: the source's pg_hba does not admit ${from} for user ${m.source.user} on database ${m.source.database}: add a line for it on the source (${line})`;
  if (/password authentication failed/.test(line)) return `${NAMESPACE}:sourcePassword: the source refused it when ${from} connected`;
  return `${NAMESPACE}:migration.source: ${from} cannot reach ${m.source.address}:${m.source.port}: ${line || "no answer"}`;
}

export function checkSourceFromLeader(cluster: ClusterSpec, m: MigrationSpec, password: string): Promise<string | undefined> {
  const leader = cluster.hosts.find((h) => h.name === cluster.leader)!;
  const source: SourceAccess = { host: leader.name, ...m.source };
  return new Promise((resolve) => {
    const child = spawn("ssh", [...sshArgs(cluster, leader), renderReachScript(source)], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.stdout.on("data", (d) => (out += d));
    child.on("error", (e) => resolve(reachProblem(m, leader, e.message)));
    child.on("close", () => {
      clearTimeout(timer);
      resolve(reachProblem(m, leader, out.split(password).join("[secret]")));
    });
    child.stdin.end(renderSourcePassfile(source, password));
  });
}
