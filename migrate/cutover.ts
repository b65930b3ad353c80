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
  endSessions,
  freeze,
  ident,
  runJob,
  sayer,
  sessionsOn,
  snapshot,
  subscribedTables,
  unfreeze,
  verify,
  waitForSmallLag,
} from "./steps";
import { WayBackNames, closeWayBack, openWayBack } from "./wayBack";

export interface CutoverInput {
  source: Endpoint;
  target: Endpoint;
  subscription: string;
  sequenceMargin: number;
  /** Present when the migration keeps a way back: a reverse subscription from the target. */
  wayBack?: WayBackNames;
  /** Exact counts in the write pause, the checksums right after the switch, on snapshots of both sides. */
  checksumsAfterSwitch?: boolean;
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
  const src = await connect(input.source, "source");
  const tgt = await connect(input.target, "target");
  const [sdb, tdb] = [input.source.database, input.target.database];
  let frozen = false;
  let switched = false;
  try {
    const already = await tgt.query("select 1 from pg_subscription where subname = $1", [input.subscription]);
    if (already.rowCount === 0) throw new Error(`no subscription ${input.subscription} on the target: run the sync phase first`);

    // 0. the lag gate: the drain inside the pause is short
    const lagBefore = await waitForSmallLag(src, input.subscription, MAX_LAG_BEFORE_FREEZE, 600_000);
    say(`lag before the freeze: ${lagBefore} bytes`);

    // 1. freeze: new sessions start read-only on both sides (the application writes nowhere
    // until the switch); then the sessions that were open end
    const since = await freeze(src, sdb);
    frozen = true;
    const frozeAt = Date.now();
    const targetSince = await freeze(tgt, tdb);
    say("source and target databases are read-only for new sessions");
    const parts: Record<string, number> = {};
    let mark = Date.now();
    const part = (name: string) => {
      parts[name] = (Date.now() - mark) / 1000;
      mark = Date.now();
    };
    const ended = (await endSessions(src, sdb, since)) + (await endSessions(tgt, tdb, targetSince));
    part("endSessions");
    say(`${ended} application sessions ended`);

    // 2. drain: the subscription has confirmed everything the source wrote until now
    const lsn = await drain(src, input.subscription);
    part("drain");
    say(`drained: the target has every change up to ${lsn}`);

    // 3. sequences: the target's ahead of the source's last values
    const sequences = await copySequences(src, tgt, input.sequenceMargin);
    part("sequences");
    say(`${sequences} sequences set (margin ${input.sequenceMargin})`);

    // 4. verify every published table, exactly (counts only when the checksums follow the switch)
    const tables = await subscribedTables(tgt, input.subscription);
    const late = input.checksumsAfterSwitch === true;
    const { rows, mismatches } = await verify(src, tgt, tables, { checksums: !late });
    part("verify");
    say(`${tables.length} tables verified, ${rows} rows, ${mismatches.length} mismatches`);
    if (mismatches.length > 0)
      throw new Error(`verification failed (source against target), nothing dropped:\n  ${mismatches.join("\n  ")}`);

    // 5. the way back, made ready before anything is dropped: a failure here still unfreezes the source
    if (input.wayBack) {
      await openWayBack(src, tgt, { target: input.target, wayBack: input.wayBack }, tables);
      say("way back ready: a subscription on the source will follow the target");
    }

    // 6. who is still on the source (superusers, other tools): for the person cutting over
    const left = await sessionsOn(src, sdb);
    // both sides as verified, held for the checksums after the switch (the way back and the
    // application change them from the switch on)
    const snapshots = late
      ? ((await Promise.all([snapshot(input.source, "source"), snapshot(input.target, "target")])) as [Client, Client])
      : undefined;

    // 7. the switch: the subscription (and its slot on the source) goes; the source stays read-only
    await tgt.query(`drop subscription ${ident(input.subscription)}`);
    switched = true;
    if (input.wayBack) await src.query(`alter subscription ${ident(input.wayBack.subscription)} enable`);
    await unfreeze(tgt, tdb);
    part("switch");
    const pause = (Date.now() - frozeAt) / 1000;
    say(`subscription dropped; writes go to the target now (write pause ${pause.toFixed(3)} s)`);
    let checksumSeconds: number | undefined;
    if (snapshots) {
      const started = Date.now();
      const late = await verify(src, tgt, tables, { checksums: true, snapshots }).finally(() =>
        Promise.all(snapshots.map((c) => c.end().catch(() => undefined))),
      );
      checksumSeconds = (Date.now() - started) / 1000;
      say(`checksums after the switch: ${late.mismatches.length} mismatches (${checksumSeconds.toFixed(3)} s)`);
      if (late.mismatches.length > 0)
        throw new Error(
          `the checksums after the switch differ (the counts were equal):\n  ${late.mismatches.join("\n  ")}\n${
            input.wayBack ? "the way back is open: set the migration's phase to revert" : "the source is read-only, as it was at the switch"
          }`,
        );
    }
    return {
      writePauseSeconds: pause,
      sessionsEnded: ended,
      drainedTo: lsn,
      tablesVerified: tables.length,
      rowsVerified: rows,
      sequencesSet: sequences,
      mismatches,
      connectionsLeftOnSource: left,
      sourceReadOnly: true,
      ...(input.wayBack ? { wayBackOpen: true } : {}),
      pauseParts: parts,
      checksums: late ? "after-switch" : "in-pause",
      ...(checksumSeconds !== undefined ? { checksumSeconds } : {}),
    };
  } catch (e) {
    if (frozen && !switched) {
      if (input.wayBack) await closeWayBack(src, tgt, input.wayBack).catch(() => undefined);
      await unfreeze(src, sdb).catch(() => undefined);
      await unfreeze(tgt, tdb).catch(() => undefined);
      say("nothing dropped: the source is writable again, the target still follows it");
    } else if (switched) {
      await unfreeze(tgt, tdb).catch(() => undefined);
    }
    throw e;
  } finally {
    await src.end().catch(() => undefined);
    await tgt.end().catch(() => undefined);
  }
}

if (require.main === module) void runJob<CutoverInput>("cutover", cutover);
