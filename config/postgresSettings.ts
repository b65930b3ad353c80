// PostgreSQL 15 settings the configuration treats apart: the ones computed per host, and the ones
// the program owns.

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
