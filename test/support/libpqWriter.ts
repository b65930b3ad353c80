// An application on libpq as the README tells it to connect: psql with the read-write string of
// the `applicationConnections` output (every member, target_session_attrs=read-write), a new
// connection for each insert, its password from PGPASSWORD. It remembers every id the server
// acknowledged and when, so a test can check that none is lost and measure the longest gap.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { PG_BIN } from "../../postgres15";
import { DevStack } from "./devStack";
import { psql, sandbox } from "./sandbox";

/** The role and database of the writer's `clients` entry: the role is the test's own, not the application's. */
export const WRITER_ROLE = "app_writer";
export const WRITER_DATABASE = "appdb";
/** Where its password lives: the stack's config, in a namespace of the test's own (the program reads only pg-replication:). */
export const WRITER_PASSWORD_KEY = "pgr-test:writerPassword";
const TABLE = "pgr_client_writes";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One psql run: its exit status and output. */
function run(conninfo: string, password: string, sql: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(`${PG_BIN}/psql`, ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql], {
      env: { ...process.env, PGPASSWORD: password },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", () => resolve({ code: -1, out }));
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

/**
 * A clients entry for the writer (the controller's address), its role with a password the test
 * sets in config, and its table in appdb on the leader; one `up` applies the pg_hba line. Returns
 * the read-write conninfo as the output has it, and the password.
 */
export function prepareLibpqWriter(dev: DevStack, leader = "pg1"): { conninfo: string; password: string } {
  const password = randomBytes(12).toString("hex");
  dev.project.setConfig(dev.stack, WRITER_PASSWORD_KEY, password, true);
  const fromConfig = dev.ok(["config", "get", WRITER_PASSWORD_KEY]).trim();
  if (!psql(leader, `select 1 from pg_database where datname = '${WRITER_DATABASE}'`)) psql(leader, `create database ${WRITER_DATABASE}`);
  psql(
    leader,
    `do $$ begin if not exists (select from pg_roles where rolname = '${WRITER_ROLE}') then create role ${WRITER_ROLE} login; end if; end $$; alter role ${WRITER_ROLE} password '${fromConfig}'`,
  );
  psql(
    leader,
    `drop table if exists ${TABLE}; create table ${TABLE} (id bigint primary key); alter table ${TABLE} owner to ${WRITER_ROLE}`,
    WRITER_DATABASE,
  );
  dev.editCluster((c) => {
    const clients = c.clients as { database: string; user: string; address: string }[];
    if (!clients.some((x) => x.user === WRITER_ROLE))
      clients.push({ database: WRITER_DATABASE, user: WRITER_ROLE, address: `${sandbox().controllerAddress}/32` });
  });
  dev.up();
  const connections = dev.outputs().applicationConnections as Record<
    string,
    Record<string, Record<string, { readWrite: { conninfo: string } }>>
  >;
  return { conninfo: connections.main[WRITER_DATABASE][WRITER_ROLE].readWrite.conninfo, password: fromConfig };
}

/** Takes the writer's clients entry, table, role and password away again (one `up`). */
export function removeLibpqWriter(dev: DevStack, leader = "pg1"): void {
  dev.editCluster((c) => (c.clients = (c.clients as { user: string }[]).filter((x) => x.user !== WRITER_ROLE)));
  dev.up();
  psql(leader, `drop table if exists ${TABLE}`, WRITER_DATABASE);
  psql(leader, `drop role if exists ${WRITER_ROLE}`);
  dev.run(["config", "rm", WRITER_PASSWORD_KEY]);
}

/** Every ~50 ms, one insert on a connection of its own, until stopped. */
export class LibpqWriter {
  readonly acknowledged: number[] = [];
  /** When each acknowledged insert was acknowledged (ms since the epoch), in order. */
  readonly ackedAt: number[] = [];
  private stopped = false;
  private done?: Promise<void>;

  constructor(
    private readonly conninfo: string,
    private readonly password: string,
    private readonly intervalMs = 50,
    /** Where its ids start: writers in turn on one table each need a range of their own (ids are its primary key). */
    private readonly firstId = 1,
  ) {}

  start(): void {
    this.done = (async () => {
      let next = this.firstId;
      while (!this.stopped) {
        const started = Date.now();
        const id = next++; // an insert in doubt (an error, no answer) is never counted as acknowledged
        const r = await run(this.conninfo, this.password, `insert into ${TABLE} (id) values (${id}) returning id`);
        if (r.code === 0 && r.out.trim() === String(id)) {
          this.acknowledged.push(id);
          this.ackedAt.push(Date.now());
        }
        await sleep(Math.max(0, this.intervalMs - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<number[]> {
    this.stopped = true;
    await this.done;
    return this.acknowledged;
  }

  /** The longest time between two acknowledged inserts, in seconds. */
  longestGap(): number {
    let gap = 0;
    for (let i = 1; i < this.ackedAt.length; i++) gap = Math.max(gap, this.ackedAt[i] - this.ackedAt[i - 1]);
    return gap / 1000;
  }

  /** The acknowledged ids that `member` does not hold: each one a lost write. */
  lostOn(member: string): number[] {
    const rows = new Set(psql(member, `select id from ${TABLE}`, WRITER_DATABASE).split("\n").filter(Boolean).map(Number));
    return this.acknowledged.filter((id) => !rows.has(id));
  }
}
