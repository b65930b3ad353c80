// Facts of a Debian PostgreSQL 15 cluster "main", the only kind of member this program manages:
// where its programs, data and configuration live, the settings a hot standby checks against its
// leader, the ones computed per host and the ones the program owns. What each setting is (type,
// unit, range, whether a change needs a restart) is the server's own catalogue:
// config/settingsCatalogue.ts.

export const PG_MAJOR = "15";
export const PG_CLUSTER = "main";
export const PG_BIN = `/usr/lib/postgresql/${PG_MAJOR}/bin`;
export const POSTGRES_HOME = "/var/lib/postgresql";
export const DATA_DIR = `${POSTGRES_HOME}/${PG_MAJOR}/${PG_CLUSTER}`;
export const CONF_DIR = `/etc/postgresql/${PG_MAJOR}/${PG_CLUSTER}`;
export const POSTGRESQL_CONF_PATH = `${CONF_DIR}/postgresql.conf`;
export const HBA_PATH = `${CONF_DIR}/pg_hba.conf`;
/** The cluster's CA on a member (sslRootCert, written by each member's configuration): its libpq's root.crt. */
export const ROOT_CERT_PATH = `${POSTGRES_HOME}/.postgresql/root.crt`;
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

/** The settings computed from each host's memory and CPUs (render/tuning.ts). */
export const TUNED_SETTINGS = [
  "shared_buffers",
  "effective_cache_size",
  "work_mem",
  "maintenance_work_mem",
  "max_wal_size",
  "min_wal_size",
  "wal_buffers",
  "max_worker_processes",
  "max_parallel_workers",
  "max_parallel_workers_per_gather",
  "max_parallel_maintenance_workers",
  "random_page_cost",
  "effective_io_concurrency",
  "checkpoint_completion_target",
] as const;

/** Settings the program owns, each with why: a cluster cannot override them through `settings`. */
export const MANAGED_SETTINGS: Readonly<Record<string, string>> = {
  port: "set clusters[].port instead",
  primary_conninfo: "the standby step writes it",
  primary_slot_name: "the standby step writes it",
  data_directory: "the Debian cluster's own",
  config_file: "the Debian cluster's own",
  hba_file: "the Debian cluster's own",
  ident_file: "the Debian cluster's own",
  include: "includes are not allowed",
  include_dir: "includes are not allowed",
  include_if_exists: "includes are not allowed",
};
