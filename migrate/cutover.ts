// The cutover, run by the program's `cutover` step (a local command on the controller): freeze
// writes on the source and on the target, end the application's sessions, drain the subscription
// to exactly the source's WAL position, copy the sequences, verify every table (exact count and a
// checksum of every row), open the way back when asked (migrate/wayBack.ts) and, only then, drop
// the subscription and let the application write to the target. If anything fails before the
// drop, both sides are unfrozen and nothing is dropped. Input: JSON on stdin (it holds passwords).
// Output: progress lines, then `REPORT {json}`.
import type { Client } from "pg";
import { Endpoint } from "../lib/endpoint";
import {
  connect,
  copySequences,
  drain,
  backendPid,
  closeToSessions,
  dropSubscription,
  endEverySession,
  endSessions,
  freeze,
  frozenState,
  openToSessions,
  othersThanOurs,
  ident,
  runJob,
  sayer,
  sessionsOn,
  subscribedTables,
  takeSnapshot,
  unfreeze,
  unsubscribedTables,
  verify,
  waitForSmallLag,
} from "./steps";
import { WayBackNames, advanceWayBackSlot, closeWayBack, makeWayBackSlot, openWayBack } from "./wayBack";

export interface CutoverInput {
  source: Endpoint;
  target: Endpoint;
  subscription: string;
  /** The source's publication: every table it publishes must be subscribed before anything freezes. */
  publication?: string;
  sequenceMargin: number;
  /** Present when the migration keeps a way back: a reverse subscription from the target. */
  wayBack?: WayBackNames;
  /** Counts and checksums right after the switch, on snapshots of both sides pinned at it: nothing in the pause grows with the data. */
  checksumsAfterSwitch?: boolean;
  /** How many tables are verified at once after the switch (default 4). */
  verifyWorkers?: number;
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
  /** Superuser sessions on the source that the freeze ended (they could have written past it). */
  superuserSessionsEnded?: string[];
  sourceReadOnly: boolean;
  /** Set when this run finished a cutover an earlier run had switched already. */
  resumed?: boolean;
  wayBackOpen?: boolean;
  /** Seconds each part of the write pause took: end sessions, drain, sequences, verify, switch. */
  pauseParts?: Record<string, number>;
  /** "in-pause" (the default) or "after-switch" (then the seconds the checksums took after it). */
  checksums?: string;
  checksumSeconds?: number;
}

/** The lag gate: the freeze starts only once the target is less than this behind. */
const MAX_LAG_BEFORE_FREEZE = 8 * 1024 * 1024;

const say = sayer("cutover");

export async function cutover(input: CutoverInput): Promise<CutoverReport> {
  // a database cannot be closed to sessions from a session on it: this one is on postgres
  const srcControl = await connect({ ...input.source, database: "postgres" }, "source's postgres database");
  const [sdb, tdb] = [input.source.database, input.target.database];
  const tgt = await connect(input.target, "target");
  const left = await frozenState(srcControl, sdb);
  const subscribed = (await tgt.query("select 1 from pg_subscription where subname = $1", [input.subscription])).rowCount !== 0;
  // a cutover stopped inside its pause (killed, the host lost) left the source closed and frozen.
  // Before the switch: unfrozen, then opened, so that no new session finds it read-only on its way
  // back to writable; after it: opened, still read-only (finishInterrupted)
  if (subscribed && (left.closed || left.readOnly)) {
    await unfreeze(srcControl, sdb);
    await unfreeze(tgt, tdb);
    await openToSessions(srcControl, sdb);
    say("an interrupted cutover had left the source frozen: unfrozen, starting again");
  } else if (left.closed) {
    await openToSessions(srcControl, sdb);
    say("the source was closed to sessions by an interrupted cutover: open again, read-only for new sessions");
  }
  const src = await connect(input.source, "source");
  const late = input.checksumsAfterSwitch === true;
  // opened now: nobody, this program included, opens a session on the source during the pause
  const snapshots = late
    ? ((await Promise.all([connect(input.source, "source"), connect(input.target, "target")])) as [Client, Client])
    : undefined;
  let frozen = false;
  let switched = false;
  let wayBackMade = false;
  try {
    if (!subscribed) {
      if (left.readOnly) return await finishInterrupted(src, srcControl, tgt, input);
      throw new Error(`no subscription ${input.subscription} on the target: run the sync phase first`);
    }

    // a table published but not subscribed (added during sync, before a refresh) would be left behind
    if (input.publication) {
      const missing = await unsubscribedTables(src, tgt, input.publication, input.subscription);
      if (missing.length > 0)
        throw new Error(
          `the source publishes tables the subscription does not have (${missing.join(", ")}): nothing frozen; run the sync phase again (it refreshes the subscription), then cut over`,
        );
    }

    // the way back's slot and publication, made before the freeze: making them waits for
    // transactions and locks on the target, which must not happen inside the pause
    const tables = await subscribedTables(tgt, input.subscription);
    if (input.wayBack) {
      wayBackMade = true;
      await makeWayBackSlot(src, tgt, input.wayBack, tables);
      say("way back's slot and publication made on the target");
    }

    // 0. the lag gate: the drain inside the pause is short
    const lagBefore = await waitForSmallLag(src, input.subscription, MAX_LAG_BEFORE_FREEZE, 600_000);
    say(`lag before the freeze: ${lagBefore} bytes`);
    if (input.wayBack) await advanceWayBackSlot(tgt, input.wayBack);

    // 1. freeze: the source takes no new session, and new sessions start read-only on both sides
    // once it does again (the application writes nowhere until the switch); then every session
    // that was open on the source ends, superusers' too, and the target's application sessions.
    // Closed first: no new session finds the source read-only while the target still takes writes
    frozen = true;
    await closeToSessions(srcControl, sdb);
    const frozeAt = Date.now();
    await freeze(src, sdb);
    const targetSince = await freeze(tgt, tdb);
    say("source closed to new sessions; source and target read-only for new sessions");
    const parts: Record<string, number> = {};
    let mark = Date.now();
    const part = (name: string) => {
      parts[name] = (Date.now() - mark) / 1000;
      mark = Date.now();
    };
    const keep = snapshots ? [await backendPid(snapshots[0])] : [];
    const onSource = await endEverySession(src, sdb, keep);
    const ended = onSource.ended + (await endSessions(tgt, tdb, targetSince));
    part("endSessions");
    say(`${ended} sessions ended`);
    if (onSource.superusers.length > 0) say(`superuser sessions ended on the source: ${onSource.superusers.join(", ")}`);

    // 2. drain: the subscription has confirmed everything the source wrote until now
    const lsn = await drain(src, input.subscription);
    part("drain");
    say(`drained: the target has every change up to ${lsn}`);

    // 3. sequences: the target's ahead of the source's last values
    const sequences = await copySequences(src, tgt, input.sequenceMargin);
    part("sequences");
    say(`${sequences} sequences set (margin ${input.sequenceMargin})`);

    // 4. verify every published table, exactly, in the pause, unless it follows the switch
    let { rows, mismatches } = { rows: 0, mismatches: [] as string[] };
    if (!late) {
      ({ rows, mismatches } = await verify(src, tgt, tables, { checksums: true }));
      part("verify");
      say(`${tables.length} tables verified, ${rows} rows, ${mismatches.length} mismatches`);
      if (mismatches.length > 0)
        throw new Error(`verification failed (source against target), nothing dropped:\n  ${mismatches.join("\n  ")}`);
    }

    // 5. the way back, made ready before anything is dropped, from where the target stands now: a
    // failure here still unfreezes the source
    if (input.wayBack) {
      await openWayBack(src, tgt, { target: input.target, wayBack: input.wayBack });
      part("wayBack");
      say("way back ready: a subscription on the source will follow the target");
    }

    // 6. both sides as they are at the switch, held for the verification after it (the way back
    // and the application change them from the switch on); exported, so that several sessions read them
    const exported = snapshots ? await Promise.all(snapshots.map(async (c) => exportSnapshot(await takeSnapshot(c)))) : undefined;

    // 7. the switch: the subscription (and its slot on the source) goes, the source still closed;
    // the target takes writes, then the source takes sessions again, read-only: an application
    // that finds the source read-only finds the target writable
    await dropSubscription(tgt, src, input.subscription);
    switched = true;
    if (input.wayBack) await src.query(`alter subscription ${ident(input.wayBack.subscription)} enable`);
    await unfreeze(tgt, tdb);
    await openToSessions(srcControl, sdb);
    part("switch");
    const pause = (Date.now() - frozeAt) / 1000;
    say(`subscription dropped; writes go to the target now (write pause ${pause.toFixed(3)} s)`);
    const leftOnSource = othersThanOurs(await sessionsOn(src, sdb));
    let checksumSeconds: number | undefined;
    if (snapshots && exported) {
      const started = Date.now();
      const after = await verifyOnSnapshots(input, src, tgt, tables, snapshots, exported);
      ({ rows, mismatches } = after);
      checksumSeconds = (Date.now() - started) / 1000;
      say(
        `${tables.length} tables verified after the switch, as they were at it: ${rows} rows, counts and checksums, ${mismatches.length} mismatches (${checksumSeconds.toFixed(3)} s)`,
      );
      if (mismatches.length > 0)
        throw new Error(
          `the tables differ between the source and the target as they were at the switch: ${mismatches.join("; ")}; ${
            input.wayBack ? "the way back is open: set the migration's phase to revert" : "the source is read-only, as it was at the switch"
          }`,
        );
    }
    return {
      writePauseSeconds: pause,
      sessionsEnded: ended,
      superuserSessionsEnded: onSource.superusers,
      drainedTo: lsn,
      tablesVerified: tables.length,
      rowsVerified: rows,
      sequencesSet: sequences,
      mismatches,
      connectionsLeftOnSource: leftOnSource,
      sourceReadOnly: true,
      ...(input.wayBack ? { wayBackOpen: true } : {}),
      pauseParts: parts,
      checksums: late ? "after-switch" : "in-pause",
      ...(checksumSeconds !== undefined ? { checksumSeconds } : {}),
    };
  } catch (e) {
    if (wayBackMade && !switched && input.wayBack) await closeWayBack(src, tgt, input.wayBack).catch(() => undefined);
    // writable before open: no new session finds a source read-only that is not cut over
    if (frozen && !switched) {
      await unfreeze(srcControl, sdb).catch(() => undefined);
      await unfreeze(tgt, tdb).catch(() => undefined);
      await openToSessions(srcControl, sdb).catch(() => undefined);
      say("nothing dropped: the source is writable again, the target still follows it");
    } else if (switched) {
      await unfreeze(tgt, tdb).catch(() => undefined);
      await openToSessions(srcControl, sdb).catch(() => undefined);
    }
    throw e;
  } finally {
    for (const c of [src, tgt, srcControl, ...(snapshots ?? [])]) await c.end().catch(() => undefined);
  }
}

async function exportSnapshot(c: Client): Promise<string> {
  return String((await c.query("select pg_export_snapshot() as id")).rows[0].id);
}

/**
 * Counts and checksums of every table on both sides as they were at the switch: the snapshot
 * sessions and up to `verifyWorkers - 1` more pairs that import their snapshots each take a table
 * at a time.
 */
async function verifyOnSnapshots(
  input: CutoverInput,
  src: Client,
  tgt: Client,
  tables: { schema: string; name: string }[],
  snapshots: [Client, Client],
  exported: string[],
): Promise<{ rows: number; mismatches: string[] }> {
  const workers = Math.max(1, Math.min(input.verifyWorkers ?? 4, tables.length));
  const pairs: [Client, Client][] = [snapshots];
  const opened: Client[] = [];
  try {
    for (let i = 1; i < workers; i++) {
      const pair = (await Promise.all([connect(input.source, "source"), connect(input.target, "target")])) as [Client, Client];
      opened.push(...pair);
      await Promise.all(
        pair.map(async (c, side) => {
          await c.query("begin isolation level repeatable read read only");
          await c.query(`set transaction snapshot '${exported[side].replace(/'/g, "''")}'`);
        }),
      );
      pairs.push(pair);
    }
    const queue = [...tables];
    const results = await Promise.all(
      pairs.map(async (pair) => {
        const found = { rows: 0, mismatches: [] as string[] };
        for (let t = queue.shift(); t; t = queue.shift()) {
          const r = await verify(src, tgt, [t], { checksums: true, snapshots: pair });
          found.rows += r.rows;
          found.mismatches.push(...r.mismatches);
        }
        return found;
      }),
    );
    return { rows: results.reduce((a, r) => a + r.rows, 0), mismatches: results.flatMap((r) => r.mismatches).sort() };
  } finally {
    for (const c of opened) await c.end().catch(() => undefined);
  }
}

/** The tables the publication on the source has that the subscription on the target does not, as schema.table. */
/**
 * A cutover stopped after its switch (the subscription is gone, the source frozen): finishes what
 * the switch leaves to do, so that the application is never left with nowhere to write.
 */
async function finishInterrupted(src: Client, srcControl: Client, tgt: Client, input: CutoverInput): Promise<CutoverReport> {
  if (input.wayBack) await src.query(`alter subscription ${ident(input.wayBack.subscription)} enable`).catch(() => undefined);
  await unfreeze(tgt, input.target.database);
  await openToSessions(srcControl, input.source.database);
  say("an interrupted cutover had switched already: the target takes writes, the source stays read-only");
  return {
    writePauseSeconds: 0,
    sessionsEnded: 0,
    drainedTo: "",
    tablesVerified: 0,
    rowsVerified: 0,
    sequencesSet: 0,
    mismatches: [],
    connectionsLeftOnSource: await sessionsOn(src, input.source.database),
    sourceReadOnly: true,
    resumed: true,
    ...(input.wayBack ? { wayBackOpen: true } : {}),
  };
}

if (require.main === module) void runJob<CutoverInput>("cutover", cutover);
