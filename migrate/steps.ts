// The steps a cutover and its way back share: both move the application from one database to
// another that a subscription keeps equal, and both must stop writes, wait until the subscriber
// has everything, carry the sequences over and prove the two sides equal before switching.
import { Client } from "pg";
import { Endpoint, clientConfig } from "../lib/endpoint";
import { sqlIdent } from "../render/quote";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A possibly schema-qualified name, each part quoted. */
export const ident = (...parts: string[]) => parts.map(sqlIdent).join(".");

export function sayer(what: string): (line: string) => void {
  return (line) => process.stdout.write(`${what}: ${line}\n`);
}

/** The application_name of the cutover's own sessions. */
export const CUTOVER_APPLICATION = "pg-replication cutover";

/** Sessions as sessionsOn lists them, without the cutover's own (its snapshots, its verification). */
export function othersThanOurs(sessions: string[]): string[] {
  return sessions.filter((s) => !s.endsWith(`(${CUTOVER_APPLICATION})`));
}

export async function connect(e: Endpoint, what: string): Promise<Client> {
  const c = new Client(clientConfig(e, CUTOVER_APPLICATION));
  c.on("error", () => undefined);
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`cannot connect to the ${what} (${e.host}:${e.port}/${e.database}): ${(err as Error).message}`);
  }
  // the database may be frozen already (a way back): this session's own statements must write
  await c.query("set default_transaction_read_only = off");
  // no wait inside a write pause is unbounded: a lock held elsewhere fails the step, which unfreezes
  await c.query("set lock_timeout = '10s'");
  return c;
}

/** New sessions of the database start read-only; returns the server time the freeze took effect. */
export async function freeze(c: Client, db: string): Promise<Date> {
  await c.query(`alter database ${ident(db)} set default_transaction_read_only = on`);
  return (await c.query("select clock_timestamp() as t")).rows[0].t as Date;
}

export async function unfreeze(c: Client, db: string): Promise<void> {
  await c.query(`alter database ${ident(db)} reset default_transaction_read_only`);
}

/**
 * For the write pause: nobody, superusers included, opens a session on the database (a read-only
 * default is only a default: SET, BEGIN READ WRITE or a role setting override it).
 */
export async function closeToSessions(c: Client, db: string): Promise<void> {
  await c.query(`alter database ${ident(db)} with allow_connections false`);
}

export async function openToSessions(c: Client, db: string): Promise<void> {
  await c.query(`alter database ${ident(db)} with allow_connections true`);
}

/** Whether a database refuses new sessions (closeToSessions) and whether new sessions start read-only (freeze). */
export async function frozenState(c: Client, db: string): Promise<{ closed: boolean; readOnly: boolean }> {
  const r = await c.query(
    `select not d.datallowconn as closed,
            coalesce((select 'default_transaction_read_only=on' = any(s.setconfig) from pg_db_role_setting s
                       where s.setdatabase = d.oid and s.setrole = 0), false) as read_only
       from pg_database d where d.datname = $1`,
    [db],
  );
  return { closed: r.rows[0]?.closed === true, readOnly: r.rows[0]?.read_only === true };
}

/**
 * Ends every client session on the database but this one and `keep`, superusers included;
 * returns how many, and who the superusers were (user@address (application)).
 */
export async function endEverySession(c: Client, db: string, keep: number[]): Promise<{ ended: number; superusers: string[] }> {
  let ended = 0;
  const superusers: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const r = await c.query(
      `select r.rolsuper as su, coalesce(a.usename, '?') || '@' || coalesce(host(a.client_addr), 'local') || ' (' ||
              coalesce(nullif(a.application_name, ''), 'no name') || ')' as who, pg_terminate_backend(a.pid) as gone
         from pg_stat_activity a join pg_roles r on r.oid = a.usesysid
        where a.datname = $1 and a.backend_type = 'client backend' and a.pid <> pg_backend_pid() and a.pid <> all($2::int[])`,
      [db, keep],
    );
    ended += r.rowCount ?? 0;
    for (const row of r.rows) if (row.su && !superusers.includes(String(row.who))) superusers.push(String(row.who));
    if ((r.rowCount ?? 0) === 0) break;
    await sleep(5);
  }
  return { ended, superusers };
}

/** The server process of a session, to keep it when the others end. */
export async function backendPid(c: Client): Promise<number> {
  return Number((await c.query("select pg_backend_pid() as p")).rows[0].p);
}

/** Ends the non-superuser sessions opened on the database before `since`; returns how many. */
export async function endSessions(c: Client, db: string, since: Date): Promise<number> {
  let ended = 0;
  for (let i = 0; i < 2000; i++) {
    const r = await c.query(
      `select pg_terminate_backend(a.pid) from pg_stat_activity a join pg_roles r on r.oid = a.usesysid
        where a.datname = $1 and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()
          and not r.rolsuper and a.backend_start < $2`,
      [db, since],
    );
    ended += r.rowCount ?? 0;
    if ((r.rowCount ?? 0) === 0) break;
    await sleep(5);
  }
  return ended;
}

/** Waits until the slot's subscriber has confirmed everything the publisher wrote until now. */
export async function drain(publisher: Client, slot: string): Promise<string> {
  const lsn = (await publisher.query("select pg_current_wal_lsn()::text as l")).rows[0].l as string;
  for (let i = 0; ; i++) {
    const r = await publisher.query("select confirmed_flush_lsn >= $2::pg_lsn as done from pg_replication_slots where slot_name = $1", [
      slot,
      lsn,
    ]);
    if (r.rowCount === 0) throw new Error(`no replication slot ${slot} on the publisher`);
    if (r.rows[0].done) return lsn;
    if (i > 6000) throw new Error(`the subscription did not confirm ${lsn} within 60 s`);
    await sleep(10);
  }
}

/** Every sequence of `to` set past `from`'s last value, plus the margin; returns how many. */
export async function copySequences(from: Client, to: Client, margin: number): Promise<number> {
  const seqs = (await from.query("select schemaname, sequencename, last_value::text as v from pg_sequences where last_value is not null"))
    .rows as { schemaname: string; sequencename: string; v: string }[];
  for (const s of seqs) {
    await to.query(
      "select setval($1::regclass, greatest($2::bigint + $3::bigint, (select last_value from pg_sequences where schemaname = $4 and sequencename = $5)), true)",
      [ident(s.schemaname, s.sequencename), s.v, margin, s.schemaname, s.sequencename],
    );
  }
  return seqs.length;
}

/** The tables a subscription (on `subscriber`) replicates, in order. */
export async function subscribedTables(subscriber: Client, subscription: string): Promise<{ schema: string; name: string }[]> {
  return (
    await subscriber.query(
      `select n.nspname as schema, c.relname as name from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid
         join pg_class c on c.oid = r.srrelid join pg_namespace n on n.oid = c.relnamespace where s.subname = $1 order by 1, 2`,
      [subscription],
    )
  ).rows as { schema: string; name: string }[];
}

/** The tables the source's publication has and the target's subscription lacks ("schema.table"). */
export async function unsubscribedTables(src: Client, tgt: Client, publication: string, subscription: string): Promise<string[]> {
  const published = (
    await src.query("select schemaname as schema, tablename as name from pg_publication_tables where pubname = $1 order by 1, 2", [
      publication,
    ])
  ).rows as { schema: string; name: string }[];
  const subscribed = new Set((await subscribedTables(tgt, subscription)).map((t) => `${t.schema}.${t.name}`));
  return published.map((t) => `${t.schema}.${t.name}`).filter((t) => !subscribed.has(t));
}

/**
 * How rows are hashed: hash_record (PostgreSQL 14 and newer: no text conversion, about 1.5 times
 * faster) when both servers have it and it hashes this table's column types; the row's text
 * otherwise (an old source, a column type without a hash function).
 */
async function hashOf(a: Client, b: Client, table: string): Promise<string> {
  const tries = await Promise.all(
    [a, b].map((c) =>
      c
        .query(`select hash_record(t) from ${table} t limit 1`)
        .then(() => true)
        .catch(() => false),
    ),
  );
  return tries.every(Boolean) ? "hash_record(t)" : "hashtext(t::text)";
}

/** Count (and checksum) of every row of a table: equal on both sides means the same rows. */
async function fingerprint(c: Client, table: string, hash: string | undefined): Promise<{ rows: number; sum: string }> {
  const sum = hash ? `coalesce(sum(${hash}::bigint), 0)::text` : "''";
  const r = await c.query(`select count(*)::bigint as rows, ${sum} as sum from ${table} t`);
  return { rows: Number(r.rows[0].rows), sum: String(r.rows[0].sum) };
}

export interface VerifyOptions {
  /** false: exact counts only (the checksums follow, outside the write pause). */
  checksums: boolean;
  /** Where to read the rows when not on a and b: snapshots (repeatable-read transactions) of both sides. */
  snapshots?: [Client, Client];
}

/** Exact count and checksum of every table on both sides; returns the rows seen and the differences. */
export async function verify(
  a: Client,
  b: Client,
  tables: { schema: string; name: string }[],
  options: VerifyOptions = { checksums: true },
): Promise<{ rows: number; mismatches: string[] }> {
  const mismatches: string[] = [];
  const [ra, rb] = options.snapshots ?? [a, b];
  let rows = 0;
  for (const t of tables) {
    const table = ident(t.schema, t.name);
    // the hash is chosen on the plain sessions: a failed probe would abort a snapshot's transaction
    const hash = options.checksums ? await hashOf(a, b, table) : undefined;
    const [x, y] = await Promise.all([fingerprint(ra, table, hash), fingerprint(rb, table, hash)]);
    rows += x.rows;
    if (x.rows !== y.rows || x.sum !== y.sum)
      mismatches.push(
        hash
          ? `${t.schema}.${t.name}: ${x.rows} rows (sum ${x.sum}) against ${y.rows} rows (sum ${y.sum})`
          : `${t.schema}.${t.name}: ${x.rows} rows against ${y.rows} rows`,
      );
  }
  return { rows, mismatches };
}

/** Takes a repeatable-read snapshot of the database as it is now, on a session opened beforehand. */
export async function takeSnapshot(c: Client): Promise<Client> {
  await c.query("begin isolation level repeatable read read only");
  await c.query("select 1");
  return c;
}

/** How long the lag gate waits for a subscription that is not connected (a worker restarting reconnects within seconds). */
const INACTIVE_LIMIT_MS = 60_000;

/**
 * The lag gate before a freeze: waits until the subscriber is connected and less than `maxBytes`
 * behind the publisher, so that the drain inside the write pause is short and can happen at all
 * (a closed database takes no new connection). Refuses (nothing frozen yet) when it does not get
 * there within `timeoutMs`, or the subscription stays unconnected for a minute.
 */

export async function waitForSmallLag(publisher: Client, slot: string, maxBytes: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let inactiveSince: number | undefined;
  for (;;) {
    const r = await publisher.query(
      "select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 as lag, active from pg_replication_slots where slot_name = $1",
      [slot],
    );
    if (r.rowCount === 0) throw new Error(`no replication slot ${slot} on the publisher`);
    const lag = Number(r.rows[0].lag);
    // connected too: once the publisher's database is closed, a subscription that is not could not connect to drain
    const active = r.rows[0].active === true;
    if (active && lag < maxBytes) return lag;
    if (active) inactiveSince = undefined;
    else inactiveSince ??= Date.now();
    if (inactiveSince !== undefined && Date.now() - inactiveSince > INACTIVE_LIMIT_MS)
      throw new Error(
        `the subscription has not been connected to the publisher for ${INACTIVE_LIMIT_MS / 1000} s (slot ${slot} inactive): nothing frozen; is it enabled? the subscriber's log says why`,
      );
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `the subscription is still ${lag} bytes behind after ${timeoutMs / 1000} s: nothing frozen; try again when the load is lower`,
      );
    await sleep(50);
  }
}

/** The client sessions still on a database, as user@address (application). */
export async function sessionsOn(c: Client, db: string): Promise<string[]> {
  return (
    await c.query(
      `select coalesce(usename, '?') || '@' || coalesce(host(client_addr), 'local') || ' (' || coalesce(nullif(application_name, ''), 'no name') || ')' as who
         from pg_stat_activity where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
      [db],
    )
  ).rows.map((r) => String(r.who));
}

/** Reads the JSON input on stdin, runs `job`, prints `REPORT {json}`; an error is one line on stderr, passwords hidden. */
export async function runJob<I extends { source: Endpoint; target: Endpoint }>(
  what: string,
  job: (input: I) => Promise<unknown>,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as I;
  try {
    process.stdout.write(`REPORT ${JSON.stringify(await job(input))}\n`);
  } catch (e) {
    let msg = (e as Error).message;
    for (const secret of [input.source.password, input.target.password]) if (secret) msg = msg.split(secret).join("[secret]");
    process.stderr.write(`${what} failed: ${msg}\n`);
    process.exitCode = 1;
  }
}

/**
 * Drops a subscription without its server connecting to the publisher (which may take no
 * session: a write pause), then its slot on the publisher through `publisher` once the slot's
 * sender has gone. Each only if present.
 */
export async function dropSubscription(subscriber: Client | undefined, publisher: Client, name: string): Promise<void> {
  const sub = ident(name);
  if (subscriber && (await subscriber.query("select 1 from pg_subscription where subname = $1", [name])).rowCount) {
    await subscriber.query(`alter subscription ${sub} disable`);
    await subscriber.query(`alter subscription ${sub} set (slot_name = none)`);
    await subscriber.query(`drop subscription ${sub}`);
  }
  for (let i = 0; i < 200; i++) {
    const r = await publisher.query("select active, active_pid from pg_replication_slots where slot_name = $1", [name]);
    if (r.rowCount === 0) return;
    if (!r.rows[0].active) {
      await publisher.query("select pg_drop_replication_slot($1)", [name]);
      return;
    }
    // its sender outlived the subscription by 5 s: end it
    if (i === 100) await publisher.query("select pg_terminate_backend($1)", [r.rows[0].active_pid]);
    await sleep(50);
  }
  throw new Error(`the replication slot ${name} on the publisher is still in use`);
}
