// The way back after a cutover. At the cutover, before the forward subscription is dropped, the
// target gets a publication of the migrated tables, a slot and a login role for the source, and
// the source a subscription to it (disabled until the switch, created without a copy): from the
// switch on, every write the application makes on the target reaches the old server too.
// `revert` moves the application back (freeze the target, drain, sequences, verify, drop the
// reverse subscription, unfreeze the source); `close` lets the way back go (the complete phase).
// The reverse subscription's password is made here, at random, and lives only in the target's
// SCRAM verifier and the source's pg_subscription (readable by its superusers alone): the old
// server is not ours to place a passfile on.
import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { SSLMODES } from "../config";
import { WAY_BACK_ROLE } from "../names";
import { Endpoint } from "../lib/endpoint";
import { conninfo, sqlLiteral as lit } from "../render/quote";
import { scramVerifier } from "../render/scram";
import {
  closeToSessions,
  connect,
  copySequences,
  drain,
  dropSubscription,
  endEverySession,
  freeze,
  frozenState,
  openToSessions,
  ident,
  runJob,
  sayer,
  sessionsOn,
  subscribedTables,
  unfreeze,
  verify,
} from "./steps";

export interface WayBackNames {
  /** The publication on the target, the slot on the target and the subscription on the source share it. */
  subscription: string;
  /** Where the source reaches the target's leader. */
  targetAddress: string;
  targetPort: number;
  targetSslmode: string;
}

export interface WayBackInput {
  source: Endpoint;
  target: Endpoint;
  wayBack: WayBackNames;
  sequenceMargin: number;
}

export interface RevertReport {
  writePauseSeconds: number;
  sessionsEnded: number;
  drainedTo: string;
  tablesVerified: number;
  rowsVerified: number;
  sequencesSet: number;
  mismatches: string[];
  connectionsLeftOnTarget: string[];
  sourceWritable: boolean;
  /** Set when this run finished a revert an earlier run had stopped after closing the way back. */
  resumed?: boolean;
}

/**
 * Called by the cutover before its freeze (any earlier way back is dropped first): the way back's
 * slot on the target and its publication of the migrated `tables`. Each can wait, which must not
 * happen inside the write pause: the slot for every transaction running on the target (an
 * autovacuum's analyze, a user's), the publication for a lock on every table (an autovacuum holds
 * one, and gives way only after deadlock_timeout). openWayBack moves the slot past what the source
 * sent meanwhile.
 */
export async function makeWayBackSlot(
  src: Client,
  tgt: Client,
  w: WayBackNames,
  tables: { schema: string; name: string }[],
): Promise<void> {
  await closeWayBack(src, tgt, w);
  await tgt.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [w.subscription]);
  await tgt.query(`create publication ${ident(w.subscription)} for table ${tables.map((t) => ident(t.schema, t.name)).join(", ")}`);
}

/**
 * Moves the way back's slot to where the target stands now. A logical slot advances by decoding
 * every WAL record on its way, so the cutover calls this once before the freeze: the advance inside
 * the pause then decodes only what the target wrote since, not everything since the slot was made.
 */
export async function advanceWayBackSlot(tgt: Client, w: WayBackNames): Promise<void> {
  await tgt.query("select pg_replication_slot_advance($1, pg_current_wal_lsn())", [w.subscription]);
}

/**
 * Called by the cutover with both sides frozen and drained (and verified, in that mode), after
 * makeWayBackSlot. The slot starts where the target stands now: what the source sent it is never
 * sent back.
 */
export async function openWayBack(src: Client, tgt: Client, input: { target: Endpoint; wayBack: WayBackNames }): Promise<void> {
  const w = input.wayBack;
  const password = randomBytes(24).toString("base64url");
  await tgt.query(`create role ${ident(WAY_BACK_ROLE)} login replication password ${lit(scramVerifier(WAY_BACK_ROLE, password))}`);
  await advanceWayBackSlot(tgt, w);
  const sslmode = (SSLMODES as readonly string[]).includes(w.targetSslmode) ? w.targetSslmode : "prefer";
  const connection = conninfo({
    host: w.targetAddress,
    port: w.targetPort,
    dbname: input.target.database,
    user: WAY_BACK_ROLE,
    password,
    sslmode,
    application_name: w.subscription,
  });
  // connect = true: the source logs in to the target now, so a pg_hba or network problem fails
  // the cutover while nothing is dropped yet. The statement carries the password: this session
  // keeps it out of the source's log whatever the source's logging settings are.
  try {
    await src.query("set log_statement = 'none'; set log_min_duration_statement = -1; set log_min_error_statement = 'panic'");
    await src.query(
      `create subscription ${ident(w.subscription)} connection ${lit(connection)} publication ${ident(w.subscription)}
         with (connect = true, create_slot = false, slot_name = ${lit(w.subscription)}, copy_data = false, enabled = false)`,
    );
  } catch (e) {
    throw new Error(`the source cannot subscribe to the target for the way back: ${(e as Error).message.split(password).join("[secret]")}`);
  }
}

/** Drops the reverse subscription, its slot, the publication and the role; each only if present. */
export async function closeWayBack(src: Client | undefined, tgt: Client, w: WayBackNames): Promise<void> {
  const sub = ident(w.subscription);
  await dropSubscription(src, tgt, w.subscription);
  await tgt.query(`drop publication if exists ${sub}`);
  await tgt.query(`drop role if exists ${ident(WAY_BACK_ROLE)}`);
}

/** Moves the application back onto the source; the target ends read-only, no longer followed. */
export async function revert(input: WayBackInput): Promise<RevertReport> {
  const say = sayer("revert");
  // a database cannot be closed to sessions from a session on it: this one is on postgres
  const tgtControl = await connect({ ...input.target, database: "postgres" }, "target's postgres database");
  const [sdb, tdb] = [input.source.database, input.target.database];
  // a revert killed inside its pause left the target closed: opened to be read; the revert unfreezes it or takes the way back again
  if ((await frozenState(tgtControl, tdb)).closed) {
    await openToSessions(tgtControl, tdb);
    say("the target was closed to sessions by an interrupted revert: open again");
  }
  const src = await connect(input.source, "source");
  const tgt = await connect(input.target, "target");
  const w = input.wayBack;
  let frozen = false;
  let closed = false;
  try {
    const sub = await src.query("select subenabled from pg_subscription where subname = $1", [w.subscription]);
    if (sub.rowCount === 0) {
      // no way back left on either side: an earlier revert closed it and stopped before the source took writes
      const published = await tgt.query("select 1 from pg_publication where pubname = $1", [w.subscription]);
      if (published.rowCount === 0) return await finishInterruptedRevert(src, tgt, input);
      throw new Error(`no subscription ${w.subscription} on the source: the way back was not opened at the cutover`);
    }

    // the target takes no new session during the pause, and every open one ends, superusers' too
    await freeze(tgt, tdb);
    await closeToSessions(tgtControl, tdb);
    frozen = true;
    const frozeAt = Date.now();
    const { ended, superusers } = await endEverySession(tgt, tdb, []);
    say(`target database closed and read-only; ${ended} sessions ended`);
    if (superusers.length > 0) say(`superuser sessions ended on the target: ${superusers.join(", ")}`);
    const lsn = await drain(tgt, w.subscription);
    say(`drained: the source has every change up to ${lsn}`);
    const sequences = await copySequences(tgt, src, input.sequenceMargin);
    const tables = await subscribedTables(src, w.subscription);
    const { rows, mismatches } = await verify(tgt, src, tables);
    say(`${sequences} sequences set; ${tables.length} tables verified, ${rows} rows, ${mismatches.length} mismatches`);
    if (mismatches.length > 0)
      throw new Error(`verification failed (target against source), nothing dropped:\n  ${mismatches.join("\n  ")}`);
    const left = await sessionsOn(tgt, tdb);
    await closeWayBack(src, tgt, w);
    closed = true;
    await unfreeze(src, sdb);
    await openToSessions(tgtControl, tdb);
    const pause = (Date.now() - frozeAt) / 1000;
    say(`way back taken: writes go to the source again (write pause ${pause.toFixed(3)} s)`);
    return {
      writePauseSeconds: pause,
      sessionsEnded: ended,
      drainedTo: lsn,
      tablesVerified: tables.length,
      rowsVerified: rows,
      sequencesSet: sequences,
      mismatches,
      connectionsLeftOnTarget: left,
      sourceWritable: true,
    };
  } catch (e) {
    if (frozen) {
      await openToSessions(tgtControl, tdb).catch(() => undefined);
      if (closed) {
        // the way back is gone: the target stays read-only, the source is where writes go
        const stuck = await unfreeze(src, sdb).then(
          () => undefined,
          (u: Error) => u.message,
        );
        if (stuck)
          throw new Error(
            `the way back is closed and the source could not be made writable (${stuck}): run up again to finish the revert; the target stays read-only`,
          );
        say("the way back is closed: the source takes the writes, the target stays read-only");
      } else {
        await unfreeze(tgt, tdb).catch(() => undefined);
        say("nothing dropped: the target is writable again, the source still follows it");
      }
    }
    throw e;
  } finally {
    await src.end().catch(() => undefined);
    await tgt.end().catch(() => undefined);
    await tgtControl.end().catch(() => undefined);
  }
}

/** A revert stopped after it closed the way back: the source takes the writes, the target stays read-only. */
async function finishInterruptedRevert(src: Client, tgt: Client, input: WayBackInput): Promise<RevertReport> {
  await freeze(tgt, input.target.database);
  await unfreeze(src, input.source.database);
  sayer("revert")("an interrupted revert had closed the way back: the source takes the writes again, the target stays read-only");
  return {
    writePauseSeconds: 0,
    sessionsEnded: 0,
    drainedTo: "",
    tablesVerified: 0,
    rowsVerified: 0,
    sequencesSet: 0,
    mismatches: [],
    connectionsLeftOnTarget: [],
    sourceWritable: true,
    resumed: true,
  };
}

/** The complete phase: the way back is let go (its slot would otherwise hold the target's WAL forever). */
export async function close(input: WayBackInput): Promise<{ wayBackClosed: true }> {
  const say = sayer("complete");
  // a source already switched off must not keep the target's slot alive: the target side goes anyway
  const src = await connect(input.source, "source").catch((e: Error) => {
    say(`${e.message}; closing the target's side only`);
    return undefined;
  });
  const tgt = await connect(input.target, "target");
  try {
    await closeWayBack(src, tgt, input.wayBack);
    say(`way back closed: ${src ? "no subscription on the source, " : ""}no slot on the target`);
    return { wayBackClosed: true };
  } finally {
    await src?.end().catch(() => undefined);
    await tgt.end().catch(() => undefined);
  }
}

if (require.main === module) {
  const action = process.argv[2];
  if (action === "revert") void runJob<WayBackInput>("revert", revert);
  else if (action === "close") void runJob<WayBackInput>("closing the way back", close);
  else {
    process.stderr.write(`usage: wayBack.ts revert|close (JSON input on stdin)\n`);
    process.exitCode = 2;
  }
}
