// Whether a host this machine cannot reach answers a member of its cluster, and as what: a host
// stated fenced (config/fencing.ts) may be cut off from the controller alone and still serve the
// members' network. Asked over SSH on the member, the way one of its standbys would connect (the
// replication role, its passfile, the cluster's sslmode): on a replication connection,
// `SHOW in_hot_standby` says whether the server is in recovery.
import { spawn } from "node:child_process";
import { ClusterSpec, HostSpec } from "../config";
import { PostgresAnswer } from "../config/fencing";
import { REPLICATION_ROLE } from "../names";
import { PG_BIN } from "../postgres15";
import { conninfo, shellQuote } from "../render/quote";
import { PASSFILE_PATH } from "../render/roles";
import { sshArgs } from "./hosts";

/** A member that does not answer over SSH within this long answers nothing either. */
const TIMEOUT_MS = 15_000;

/** What the member runs: psql as postgres to the down host, its answer or its error on stdout. Plain POSIX sh. */
export function renderMemberAskScript(c: ClusterSpec, down: HostSpec): string {
  const target = conninfo({
    host: down.address,
    port: c.port,
    user: REPLICATION_ROLE,
    passfile: PASSFILE_PATH,
    sslmode: c.sslmode,
    dbname: "replication",
    replication: "true",
    connect_timeout: 3,
    application_name: "pg-replication fence check",
  });
  return `cd / && sudo -n -u postgres timeout 10 ${PG_BIN}/psql -X -A -t -q -w -d ${shellQuote(target)} -c 'SHOW in_hot_standby' 2>&1`;
}

/** "off": not in recovery, so it takes writes; a message from the server: it runs, and refused the login. */
export function memberAnswer(out: string): PostgresAnswer {
  const last = out.trim().split("\n").pop()?.trim();
  if (last === "off") return "primary";
  if (last === "on") return "standby";
  return /FATAL|ERROR/.test(out) ? "not logged in" : "no answer";
}

export function askFromMemberOverSsh(c: ClusterSpec, member: HostSpec, down: HostSpec): Promise<PostgresAnswer> {
  return new Promise((resolve) => {
    const child = spawn("ssh", [...sshArgs(c, member), renderMemberAskScript(c, down)], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.stdout.on("data", (d) => (out += d));
    child.on("error", () => resolve("no answer"));
    child.on("close", () => {
      clearTimeout(timer);
      resolve(memberAnswer(out));
    });
  });
}

let asker = askFromMemberOverSsh;

/** Unit tests replace the SSH ask; the program always uses the real one. */
export function setMemberAsker(a: typeof askFromMemberOverSsh): void {
  asker = a;
}

export function askFromMember(c: ClusterSpec, member: HostSpec, down: HostSpec): Promise<PostgresAnswer> {
  return asker(c, member, down);
}
