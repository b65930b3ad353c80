// The cluster's replication state, read on the leader as the admin role after every `up`:
// what a person checks first (is every standby streaming, how far behind, what WAL a slot keeps).
import { Endpoint, clientConfig } from "../lib/endpoint";
import { inSession } from "../lib/pgSession";

export interface StandbyState {
  state: string;
  slot: string;
  slotActive: boolean;
  walStatus: string;
  retainedWalBytes: number;
  sentLagBytes: number | null;
  replayLagBytes: number | null;
  writeLagSeconds: number | null;
  replayLagSeconds: number | null;
}

export interface ReplicationState {
  leader: string;
  leaderInRecovery?: boolean;
  standbys: Record<string, StandbyState>;
  error?: string;
}

const STANDBYS_SQL = `
select r.application_name as name, r.state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.sent_lsn)::float8 as sent_lag_bytes,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::float8 as replay_lag_bytes,
       extract(epoch from r.write_lag)::float8 as write_lag_seconds,
       extract(epoch from r.replay_lag)::float8 as replay_lag_seconds
  from pg_stat_replication r`;

const SLOTS_SQL = `
select slot_name, active, coalesce(wal_status, '') as wal_status,
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::float8 as retained
  from pg_replication_slots where slot_type = 'physical'`;

/**
 * The state as the leader `leader` (its name in config) sees it, read at `at` (its postgres
 * database). `standbys` maps each configured standby to its slot name. Never throws: errors are
 * reported.
 */
export function readReplicationState(leader: string, at: Endpoint, standbys: Record<string, string>): Promise<ReplicationState> {
  const result: ReplicationState = { leader, standbys: {} };
  return inSession<ReplicationState>(
    { ...clientConfig(at, "pg-replication state"), statement_timeout: 10_000 },
    async (client) => {
      result.leaderInRecovery = (await client.query("select pg_is_in_recovery() as r")).rows[0].r as boolean;
      const rows = (await client.query(STANDBYS_SQL)).rows as Record<string, unknown>[];
      const slots = (await client.query(SLOTS_SQL)).rows as Record<string, unknown>[];
      for (const [name, slot] of Object.entries(standbys)) {
        const r = rows.find((x) => x.name === name);
        const s = slots.find((x) => x.slot_name === slot);
        const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
        result.standbys[name] = {
          state: r ? String(r.state) : "not connected",
          slot,
          slotActive: Boolean(s?.active),
          walStatus: s ? String(s.wal_status) : "no slot",
          retainedWalBytes: s ? Number(s.retained) : 0,
          sentLagBytes: num(r?.sent_lag_bytes),
          replayLagBytes: num(r?.replay_lag_bytes),
          writeLagSeconds: r ? (num(r.write_lag_seconds) ?? 0) : null,
          replayLagSeconds: r ? (num(r.replay_lag_seconds) ?? 0) : null,
        };
      }
      return result;
    },
    (e) => ({ ...result, error: `cannot read the replication state on ${leader} (${at.host}:${at.port}): ${(e as Error).message}` }),
  );
}
