// The sandbox hosts as tests see them: addresses from sandbox/up.sh's hosts.json, commands
// over the same SSH a real operator (and @pulumi/command) would use.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface SandboxHost {
  name: string;
  address: string;
  port: number;
  user: string;
  hostKey: string;
}

export interface Sandbox {
  privateKeyPath: string;
  knownHostsPath: string;
  sshConfigPath: string;
  controllerAddress: string;
  hosts: SandboxHost[];
}

export const SANDBOX_DIR = process.env.PGR_SANDBOX_DIR ?? "/var/tmp/pg-replication-sandbox";

/** The running sandbox; throws (never skips) when it is not there: run `make sandbox`. */
export function sandbox(): Sandbox {
  const file = path.join(SANDBOX_DIR, "hosts.json");
  if (!fs.existsSync(file)) throw new Error(`no sandbox at ${SANDBOX_DIR}: run sandbox/up.sh (make sandbox) first`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as Sandbox;
}

export function host(name: string): SandboxHost {
  const h = sandbox().hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no sandbox host ${name}`);
  return h;
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` on host `name` through its login shell, as @pulumi/command's remote.Command does. */
export function ssh(name: string, command: string, input?: string, timeoutMs = 120_000): Result {
  const r = spawnSync("ssh", ["-F", sandbox().sshConfigPath, name, command], { input, encoding: "utf8", timeout: timeoutMs });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like ssh(), but a non-zero exit is an error carrying the host's stderr. */
export function sshOk(name: string, command: string, input?: string, timeoutMs?: number): string {
  const r = ssh(name, command, input, timeoutMs);
  if (r.code !== 0) throw new Error(`on ${name}: exit ${r.code}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** A query run on the host as the local postgres superuser (peer authentication). */
export function psql(name: string, sql: string, db = "postgres"): string {
  return sshOk(name, `cd / && sudo -u postgres psql -X -A -t -q -v ON_ERROR_STOP=1 -d ${db}`, sql).trim();
}
