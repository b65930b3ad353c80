// Memory settings against the memory of each host, read at plan time (observe/hosts.ts): a value
// no host of the cluster could honour stops the preview under its key. Pure.
//
// Only what is certainly wrong is refused, never what is merely unwise (the preview has no
// warnings): one setting at a time, more than the whole of the host's memory.
//  - shared_buffers: the server maps its buffers in one piece when it starts; more than the
//    host's memory is a server that does not start (the kernel refuses the mapping) or is killed
//    as the buffers fill. Less, even 80%, can be right on a large dedicated host: not refused.
//  - effective_cache_size: the planner's belief about the memory caching data; more than the
//    host has is false on its face, and leads the planner astray.
//  - work_mem and the other limits of one operation's memory: a limit above the whole memory is
//    no limit; the host runs out first. (work_mem × max_connections is not a rule: connections
//    rarely all sort at once, so an over-commitment there is a judgement, not a mistake.)
import { ClusterSpec, NAMESPACE } from "./spec";
import { HostFacts, computeTuning } from "../render/tuning";
import { SettingValue, catalogueEntry, formatInUnit, memoryBytes } from "./settingsCatalogue";

/** Settings that are an amount of the host's memory (others with memory units are WAL or disk sizes). */
export const HOST_MEMORY_SETTINGS = [
  "shared_buffers",
  "effective_cache_size",
  "wal_buffers",
  "work_mem",
  "maintenance_work_mem",
  "autovacuum_work_mem",
  "logical_decoding_work_mem",
  "temp_buffers",
] as const;

const MiB = 2 ** 20;
const GiB = 2 ** 30;

export interface MemoryProblem {
  setting: string;
  message: string;
}

/** 23.4 GiB, 512 MiB: a host's memory as people read it. */
export function formatMemory(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.floor(bytes / MiB)} MiB`;
}

/** A value as written, with its size when it was a bare number of the base unit (16384 → 128MB). */
function shown(name: string, value: SettingValue): string {
  if (typeof value !== "number") return String(value);
  return `${value} (${formatInUnit(value, catalogueEntry(name)?.unit)})`;
}

/**
 * The memory settings in `settings` (what the host will run with: computed tuning, its overrides
 * and settings, merged) that are more than the host's memory.
 */
export function checkMemory(settings: Record<string, SettingValue>, hostMemoryBytes: number, hostName: string): MemoryProblem[] {
  const problems: MemoryProblem[] = [];
  for (const setting of HOST_MEMORY_SETTINGS) {
    const value = settings[setting];
    const bytes = value === undefined ? undefined : memoryBytes(setting, value);
    if (bytes !== undefined && bytes > hostMemoryBytes) {
      problems.push({ setting, message: `${shown(setting, value!)} is more than ${hostName}'s memory (${formatMemory(hostMemoryBytes)})` });
    }
  }
  return problems;
}

/**
 * checkMemory on each live member of cluster `index`, with the values it will run with, each
 * problem under the key that set the value: settings, or tuning. A computed value is the
 * program's own (a fraction of the host's memory, with floors for tiny hosts): never refused.
 */
export function clusterMemoryProblems(cluster: ClusterSpec, index: number, observations: Record<string, HostFacts>): string[] {
  const live = cluster.hosts.filter((h) => !h.down && observations[h.name]);
  if (live.length === 0) return [];
  const clusterCpus = Math.max(...live.map((h) => observations[h.name].cpus));
  const maxConnections = Number(cluster.settings.max_connections ?? 100);
  return live.flatMap((h) => {
    const facts = observations[h.name];
    const tuning = cluster.tuning === false ? {} : { ...computeTuning(facts, clusterCpus, maxConnections), ...cluster.tuning };
    const values = { ...tuning, ...cluster.settings };
    return checkMemory(values, facts.memoryMiB * MiB, h.name).flatMap(({ setting, message }) => {
      const key = setting in cluster.settings ? "settings" : cluster.tuning !== false && setting in cluster.tuning ? "tuning" : undefined;
      return key ? [`${NAMESPACE}:clusters[${index}].${key}.${setting}: ${message}`] : [];
    });
  });
}
