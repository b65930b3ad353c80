// The cutover, run by the program's `cutover` step (a local command on the controller): freeze
// writes on the source, end the application's sessions, drain the subscription to exactly the
// source's WAL position, copy the sequences, verify every table (exact count and a checksum of
// every row) and, only then, drop the subscription. If anything fails before the drop, the source
// is unfrozen and nothing is dropped. Input: JSON on stdin (it holds passwords). Output: progress
// lines, then `REPORT {json}`.
import { Client } from "pg";
import { Endpoint, clientConfig } from "../observe/migration";

export interface CutoverInput {
  source: Endpoint;
  target: Endpoint;
  subscription: string;
  sequenceMargin: number;
}

export interface CutoverReport {
  writePauseSeconds: number;
  sessionsEnded: number;
  drainedTo: string;
  tablesVerified: number;
  rowsVerified: number;
  sequencesSet: number;
  mismatches: string[];
  connectionsLeftOnSource: string[];
  sourceReadOnly: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stdout.write(`cutover: ${line}\n`);
const ident = (schema: string, name: string) => `"${schema.replace(/"/g, '""')}"."${name.replace(/"/g, '""')}"`;

async function connect(e: Endpoint, what: string): Promise<Client> {
  const c = new Client(clientConfig(e, `pg-replication cutover`));
  c.on("error", () => undefined);
  try {
    await c.connect();
  } catch (err) {
    throw new Error(`cannot connect to the ${what} (${e.host}:${e.port}/${e.database}): ${(err as Error).message}`);
  }
  return c;
}

/** Count and checksum of every row of a table: equal on both sides means the same rows. */
async function fingerprint(c: Client, table: string): Promise<{ rows: number; sum: string }> {
  const r = await c.query(`select count(*)::bigint as rows, coalesce(sum(hashtext(t::text)::bigint), 0)::text as sum from ${table} t`);
  return { rows: Number(r.rows[0].rows), sum: String(r.rows[0].sum) };
}

export async function cutover(input: CutoverInput): Promise<CutoverReport> {
  const src = await connect(input.source, "source");
  const tgt = await connect(input.target, "target");
  const db = input.source.database;
  let frozen = false;
  try {
    const already = await tgt.query("select 1 from pg_subscription where subname = $1", [input.subscription]);
    if (already.rowCount === 0) throw new Error(`no subscription ${input.subscription} on the target: run the sync phase first`);

    // 1. freeze: new sessions of the database start read-only; then end the sessions that were open
    await src.query(`alter database "${db.replace(/"/g, '""')}" set default_transaction_read_only = on`);
    frozen = true;
    const frozeAt = Date.now();
    const since = (await src.query("select clock_timestamp() as t")).rows[0].t as Date;
    say("source database is read-only for new sessions");
    let ended = 0;
    for (let i = 0; i < 2000; i++) {
      const r = await src.query(
        `select pg_terminate_backend(a.pid) from pg_stat_activity a join pg_roles r on r.oid = a.usesysid
          where a.datname = $1 and a.backend_type = 'client backend' and a.pid <> pg_backend_pid()
            and not r.rolsuper and a.backend_start < $2`,
        [db, since],
      );
      ended += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) === 0) break;
      await sleep(5);
    }
    say(`${ended} application sessions ended`);

    // 2. drain: the subscription has confirmed everything the source wrote until now
    const lsn = (await src.query("select pg_current_wal_lsn()::text as l")).rows[0].l as string;
    for (let i = 0; ; i++) {
      const r = await src.query("select confirmed_flush_lsn >= $2::pg_lsn as done from pg_replication_slots where slot_name = $1", [
        input.subscription,
        lsn,
      ]);
      if (r.rows[0]?.done) break;
      if (i > 6000) throw new Error(`the subscription did not confirm ${lsn} within 60 s`);
      await sleep(10);
    }
    say(`drained: the target has every change up to ${lsn}`);

    // 3. sequences: the target's ahead of the source's last values
    const seqs = (await src.query("select schemaname, sequencename, last_value::text as v from pg_sequences where last_value is not null"))
      .rows as {
      schemaname: string;
      sequencename: string;
      v: string;
    }[];
    for (const s of seqs) {
      await tgt.query("select setval($1::regclass, $2::bigint + $3::bigint, true)", [
        ident(s.schemaname, s.sequencename),
        s.v,
        input.sequenceMargin,
      ]);
    }
    say(`${seqs.length} sequences set (margin ${input.sequenceMargin})`);

    // 4. verify every published table, exactly
    const published = (
      await tgt.query(
        `select n.nspname as schema, c.relname as name from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid
           join pg_class c on c.oid = r.srrelid join pg_namespace n on n.oid = c.relnamespace where s.subname = $1 order by 1, 2`,
        [input.subscription],
      )
    ).rows as { schema: string; name: string }[];
    const mismatches: string[] = [];
    let rows = 0;
    for (const t of published) {
      const table = ident(t.schema, t.name);
      const [a, b] = await Promise.all([fingerprint(src, table), fingerprint(tgt, table)]);
      rows += a.rows;
      if (a.rows !== b.rows || a.sum !== b.sum)
        mismatches.push(`${t.schema}.${t.name}: source ${a.rows} rows (sum ${a.sum}), target ${b.rows} rows (sum ${b.sum})`);
    }
    say(`${published.length} tables verified, ${rows} rows, ${mismatches.length} mismatches`);
    if (mismatches.length > 0) throw new Error(`verification failed, nothing dropped:\n  ${mismatches.join("\n  ")}`);

    // 5. who is still on the source (superusers, other databases' tools): for the person cutting over
    const left = (
      await src.query(
        `select coalesce(usename, '?') || '@' || coalesce(host(client_addr), 'local') || ' (' || coalesce(nullif(application_name, ''), 'no name') || ')' as who
           from pg_stat_activity where datname = $1 and backend_type = 'client backend' and pid <> pg_backend_pid()`,
        [db],
      )
    ).rows.map((r) => String(r.who));

    // 6. the switch: the subscription (and its slot on the source) goes; the source stays read-only
    await tgt.query(`drop subscription "${input.subscription.replace(/"/g, '""')}"`);
    const pause = (Date.now() - frozeAt) / 1000;
    say(`subscription dropped; writes go to the target now (write pause ${pause.toFixed(3)} s)`);
    return {
      writePauseSeconds: pause,
      sessionsEnded: ended,
      drainedTo: lsn,
      tablesVerified: published.length,
      rowsVerified: rows,
      sequencesSet: seqs.length,
      mismatches,
      connectionsLeftOnSource: left,
      sourceReadOnly: true,
    };
  } catch (e) {
    if (frozen) {
      await src.query(`alter database "${db.replace(/"/g, '""')}" reset default_transaction_read_only`).catch(() => undefined);
      say("the source is writable again");
    }
    throw e;
  } finally {
    await src.end().catch(() => undefined);
    await tgt.end().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as CutoverInput;
  try {
    const report = await cutover(input);
    process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
  } catch (e) {
    const msg = (e as Error).message.split(input.source.password).join("[secret]").split(input.target.password).join("[secret]");
    process.stderr.write(`cutover failed: ${msg}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
