// The migration's source and subscription, read from the controller: the preflight that stops a
// preview with what to fix, and the status every `up` reports. Never prints a password.
import { Client } from "pg";
import { MigrationSpec, NAMESPACE } from "../config";
import { Endpoint, clientConfig } from "../lib/endpoint";
import { inSession } from "../lib/pgSession";
import { migrationNames } from "../names";
import { redact } from "../lib/redact";
import { unsubscribedTables } from "../migrate/steps";

export function sourceEndpoint(m: MigrationSpec, password: string): Endpoint {
  return {
    host: m.source.address,
    port: m.source.port,
    database: m.source.database,
    user: m.source.user,
    password,
    sslmode: m.source.sslmode,
  };
}

const key = (k: string) => `${NAMESPACE}:${k}`;

/**
 * What the source lacks for a logical migration, each naming the key to look at and what to do:
 * an empty list means it is ready. Read-only.
 */
export async function preflightSource(m: MigrationSpec, password: string): Promise<string[]> {
  const { subscription } = migrationNames(m);
  const client = new Client(clientConfig(sourceEndpoint(m, password), "pg-replication preflight"));
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === "28P01")
      return [`${key("sourcePassword")}: the source refused it for user ${JSON.stringify(m.source.user)} (password authentication failed)`];
    return [
      `${key("migration.source")}: cannot connect to ${m.source.address}:${m.source.port} database ${m.source.database} as ${m.source.user}: ${redact(err.message, password)}`,
    ];
  }
  const problems: string[] = [];
  try {
    const one = async (sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows[0] as Record<string, unknown>;
    const v = await one(
      "select current_setting('server_version_num')::int as num, current_setting('wal_level') as wal_level, (select rolsuper from pg_roles where rolname = current_user) as superuser",
    );
    if (Number(v.num) < 100000)
      problems.push(`${key("migration.source")}: PostgreSQL ${v.num} has no logical replication; 10 or newer is needed`);
    if (v.wal_level !== "logical")
      problems.push(`${key("migration.source")}: wal_level is ${v.wal_level}; set wal_level = logical on the source and restart it`);
    if (v.superuser !== true)
      problems.push(
        `${key("migration.source.user")}: ${m.source.user} must be a superuser on the source (it creates the publication and reads every table)`,
      );
    if (v.superuser === true) {
      // pg_authid: superusers alone read it; the roles the schema copy copies, with their verifiers
      const md5 = await client.query(
        "select rolname from pg_authid where rolcanlogin and rolpassword like 'md5%' and rolname !~ '^pg_' and oid >= 16384 order by 1",
      );
      const problem = md5Problem(md5.rows.map((r: { rolname: string }) => r.rolname));
      if (problem) problems.push(problem);
    }
    const free = await one(
      `select current_setting('max_replication_slots')::int - (select count(*) from pg_replication_slots where slot_name <> $1) as slots,
              current_setting('max_wal_senders')::int - (select count(*) from pg_stat_replication where application_name <> $1) as senders,
              exists (select from pg_replication_slots where slot_name = $1) as ours`,
      [subscription],
    );
    if (Number(free.slots) < 1)
      problems.push(`${key("migration.source")}: no free replication slot (max_replication_slots); raise it on the source`);
    if (Number(free.senders) < 1) problems.push(`${key("migration.source")}: no free WAL sender (max_wal_senders); raise it on the source`);
    const tables = (
      await client.query(
        `select n.nspname || '.' || c.relname as name,
                c.relreplident as identity,
                exists (select from pg_index i where i.indrelid = c.oid and i.indisprimary) as pk
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p') and not c.relispartition
            and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'`,
      )
    ).rows as { name: string; identity: string; pk: boolean }[];
    const inScope = m.tables.length > 0 ? tables.filter((t) => m.tables.includes(t.name)) : tables;
    for (const t of m.tables)
      if (!tables.some((x) => x.name === t))
        problems.push(`${key("migration.tables")}: ${t} is not a table of ${m.source.database} on the source`);
    for (const t of inScope) {
      if (t.identity === "n" || (t.identity === "d" && !t.pk)) {
        problems.push(
          `${key("migration.tables")}: ${t.name} has no primary key or replica identity, so updates and deletes could not be replicated: add a primary key, or ALTER TABLE ${t.name} REPLICA IDENTITY FULL on the source`,
        );
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  return problems;
}

/**
 * The source's login roles whose password is an md5 verifier: the schema copy copies verifiers as
 * they are, and the target's pg_hba takes scram-sha-256 alone, so they could not log in after the
 * cutover. Named with the fix, or undefined.
 */
export function md5Problem(roles: string[]): string | undefined {
  if (roles.length === 0) return undefined;
  const names = roles.map((r) => (/^[a-z_][a-z0-9_$]*$/.test(r) ? r : JSON.stringify(r))).join(", ");
  const [which, fix] =
    roles.length === 1 ? [`role ${names} has an md5 password`, "that role's"] : [`roles ${names} have md5 passwords`, "each role's"];
  return `${key("migration.source")}: ${which} on the source, which the target's pg_hba (scram-sha-256) would refuse after the cutover: set password_encryption = scram-sha-256 and reset ${fix} password on the source`;
}

/**
 * Whether the migration's cutover is still ahead: the source still has the subscription's slot,
 * which the cutover's switch drops with the subscription. undefined when the source cannot be read.
 */
export function cutoverAhead(m: MigrationSpec, password: string): Promise<boolean | undefined> {
  return inSession(
    clientConfig(sourceEndpoint(m, password), "pg-replication preflight"),
    async (client) => {
      const r = await client.query("select exists (select from pg_replication_slots where slot_name = $1) as ahead", [
        migrationNames(m).subscription,
      ]);
      return r.rows[0]?.ahead === true;
    },
    () => undefined,
  );
}

export interface MigrationState {
  phase: string;
  tables: Record<string, string>;
  lagBytes: number | null;
  lagSeconds: number | null;
  /** With a way back open: how far the source is behind the target, measured on the target. */
  wayBackLagBytes?: number | null;
  error?: string;
}

const SYNC_STATES: Record<string, string> = { i: "initializing", d: "copying", f: "copied", s: "synchronized", r: "ready" };

/** Per-table sync state (on the target) and the lag measured on the publisher (the source). */
export async function readMigrationState(m: MigrationSpec, source: Endpoint, target: Endpoint): Promise<MigrationState> {
  const { subscription } = migrationNames(m);
  const state: MigrationState = { phase: m.phase, tables: {}, lagBytes: null, lagSeconds: null };
  const t = new Client(clientConfig(target, "pg-replication status"));
  const s = new Client(clientConfig(source, "pg-replication status"));
  t.on("error", () => undefined);
  s.on("error", () => undefined);
  try {
    await t.connect();
    const rows = (
      await t.query(
        `select n.nspname || '.' || c.relname as name, r.srsubstate as state
           from pg_subscription_rel r join pg_subscription sub on sub.oid = r.srsubid
           join pg_class c on c.oid = r.srrelid join pg_namespace n on n.oid = c.relnamespace
          where sub.subname = $1 order by 1`,
        [subscription],
      )
    ).rows as { name: string; state: string }[];
    for (const r of rows) state.tables[r.name] = SYNC_STATES[r.state] ?? r.state;
    if (m.phase === "sync") {
      await s.connect();
      const lag = (
        await s.query(
          `select pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::float8 as bytes,
                  (select extract(epoch from coalesce(r.replay_lag, interval '0'))::float8 from pg_stat_replication r where r.application_name = $1 limit 1) as seconds
             from pg_replication_slots s where s.slot_name = $1`,
          [subscription],
        )
      ).rows[0] as { bytes: number; seconds: number | null } | undefined;
      if (lag) {
        state.lagBytes = Number(lag.bytes);
        state.lagSeconds = lag.seconds === null ? null : Number(lag.seconds);
      }
    }
    if (m.wayBack && (m.phase === "cutover" || m.phase === "revert")) {
      const back = await t.query(
        "select pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 as bytes from pg_replication_slots where slot_name = $1",
        [migrationNames(m).wayBack],
      );
      state.wayBackLagBytes = back.rowCount ? Number(back.rows[0].bytes) : null;
    }
  } catch (e) {
    state.error = redact((e as Error).message, source.password, target.password);
  } finally {
    await t.end().catch(() => undefined);
    await s.end().catch(() => undefined);
  }
  return state;
}

/**
 * The tables the source publishes that the subscription lacks (created on the source during the
 * sync, or added to migration.tables): the subscription step reruns for them, copies their schema
 * and refreshes. Empty when the subscription does not exist yet or either side cannot be read.
 */
export async function unsubscribedAtPlan(m: MigrationSpec, password: string, target: Endpoint): Promise<string[]> {
  const { publication, subscription } = migrationNames(m);
  const src = new Client(clientConfig(sourceEndpoint(m, password), "pg-replication preflight"));
  const tgt = new Client(clientConfig(target, "pg-replication preflight"));
  for (const c of [src, tgt]) c.on("error", () => undefined);
  try {
    await Promise.all([src.connect(), tgt.connect()]);
    // no subscription yet: the step creates it over every published table, so none lacks it
    const exists = await tgt.query("select 1 from pg_subscription where subname = $1", [subscription]);
    if (exists.rowCount === 0) return [];
    return await unsubscribedTables(src, tgt, publication, subscription);
  } catch {
    return [];
  } finally {
    await Promise.all([src, tgt].map((c) => c.end().catch(() => undefined)));
  }
}

/**
 * Whether the source database refuses new sessions, as a cutover killed inside its write pause
 * leaves it (read through the source's postgres database). false when it cannot be read.
 */
export function sourceClosed(m: MigrationSpec, password: string): Promise<boolean> {
  return inSession(
    clientConfig({ ...sourceEndpoint(m, password), database: "postgres" }, "pg-replication preflight"),
    async (client) => {
      const r = await client.query("select not datallowconn as closed from pg_database where datname = $1", [m.source.database]);
      return r.rows[0]?.closed === true;
    },
    () => false,
  );
}
