// Memory and CPU tuning of one member, the seed's third lesson: computed from the host's own
// memory and CPUs (read at plan time), overridable per cluster, in its own include.
import { ClusterSpec, SettingValue, TUNED_SETTINGS } from "../config";
import { confValue } from "./quote";
import { CONF_DIR } from "../postgres15";

export const TUNING_PATH = `${CONF_DIR}/conf.d/pg-replication-tuning.conf`;

export interface HostFacts {
  memoryMiB: number;
  cpus: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const mb = (v: number) => `${Math.floor(v)}MB`;

/**
 * The computed values for a host. `clusterCpus` is the most CPUs of any member: settings a hot
 * standby must hold at least as high as its leader (max_worker_processes) are the same on all.
 */
export function computeTuning(facts: HostFacts, clusterCpus: number, maxConnections: number): Record<string, SettingValue> {
  const mem = facts.memoryMiB;
  const maxWal = clamp(mem / 4, 1024, 16384);
  const gather = clamp(Math.floor(facts.cpus / 2), 1, 4);
  return {
    shared_buffers: mb(Math.max(128, mem * 0.25)),
    effective_cache_size: mb(Math.max(512, mem * 0.7)),
    work_mem: mb(Math.max(4, (mem * 0.25) / Math.max(1, maxConnections))),
    maintenance_work_mem: mb(clamp(mem * 0.05, 64, 2048)),
    max_wal_size: mb(maxWal),
    min_wal_size: mb(Math.max(80, maxWal / 4)),
    wal_buffers: "16MB",
    max_worker_processes: Math.max(8, clusterCpus),
    max_parallel_workers: Math.max(2, facts.cpus),
    max_parallel_workers_per_gather: gather,
    max_parallel_maintenance_workers: gather,
    random_page_cost: 1.1,
    effective_io_concurrency: 200,
    checkpoint_completion_target: 0.9,
  };
}

/** The tuning include of one member; settings the cluster sets itself are left to that include. */
export function renderTuningConf(cluster: ClusterSpec, hostName: string, facts: HostFacts, clusterCpus: number): string {
  const header = `# Managed by pg-replication (Pulumi): tuning of ${hostName} for ${facts.memoryMiB} MiB of memory and ${facts.cpus} CPUs.`;
  if (cluster.tuning === false) return `${header}\n# Disabled: clusters[].tuning is false.\n`;
  const maxConnections = Number(cluster.settings.max_connections ?? 100);
  const values = { ...computeTuning(facts, clusterCpus, maxConnections), ...cluster.tuning };
  const lines = (TUNED_SETTINGS as readonly string[])
    .filter((name) => !(name in cluster.settings))
    .map((name) => `${name} = ${confValue(values[name])}`);
  return [header, "# Override a value in clusters[].tuning, or any setting in clusters[].settings.", ...lines, ""].join("\n");
}
