// Facts of a Debian PostgreSQL 15 cluster "main", the only kind of member this program manages:
// where its programs, data and configuration live, and the settings a hot standby checks
// against its leader.

export const PG_MAJOR = "15";
export const PG_CLUSTER = "main";
export const PG_BIN = `/usr/lib/postgresql/${PG_MAJOR}/bin`;
export const POSTGRES_HOME = "/var/lib/postgresql";
export const DATA_DIR = `${POSTGRES_HOME}/${PG_MAJOR}/${PG_CLUSTER}`;
export const CONF_DIR = `/etc/postgresql/${PG_MAJOR}/${PG_CLUSTER}`;
export const POSTGRESQL_CONF_PATH = `${CONF_DIR}/postgresql.conf`;
export const HBA_PATH = `${CONF_DIR}/pg_hba.conf`;
/** Where Debian's pg_ctlcluster has the server log. */
export const SERVER_LOG = `/var/log/postgresql/postgresql-${PG_MAJOR}-${PG_CLUSTER}.log`;

/** Settings a hot standby must hold at least as high as its leader, and their pg_controldata labels. */
export const STANDBY_MINIMUMS: Record<string, { label: string; fallback: number }> = {
  max_connections: { label: "max_connections setting", fallback: 100 },
  max_worker_processes: { label: "max_worker_processes setting", fallback: 8 },
  max_wal_senders: { label: "max_wal_senders setting", fallback: 10 },
  max_prepared_transactions: { label: "max_prepared_xacts setting", fallback: 0 },
  max_locks_per_transaction: { label: "max_locks_per_xact setting", fallback: 64 },
};
