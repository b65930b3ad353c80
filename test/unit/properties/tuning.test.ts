// Properties of the computed tuning (render/tuning.ts) over many hosts, drawn from a seeded
// generator (the same hosts on every run; a failure names the host to reproduce it with).
import { strict as assert } from "node:assert";
import { TUNED_SETTINGS } from "../../../config";
import { computeTuning } from "../../../render/tuning";

/** A small seeded generator (mulberry32): uniform in [0, 1). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Host {
  memoryMiB: number;
  cpus: number;
  clusterCpus: number;
  maxConnections: number;
}

/** Hosts from 512 MiB to 4 TiB (log-uniform), 1 to 256 CPUs, in clusters of up to 512 CPUs per member. */
function hosts(count: number, seed = 15): Host[] {
  const r = random(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const edges: Host[] = [
    { memoryMiB: 512, cpus: 1, clusterCpus: 1, maxConnections: 1 },
    { memoryMiB: 4 << 20, cpus: 256, clusterCpus: 512, maxConnections: 10000 },
  ];
  return [
    ...edges,
    ...Array.from({ length: count }, () => {
      const cpus = int(1, 256);
      return {
        memoryMiB: Math.floor(512 * Math.pow(2, r() * 13)),
        cpus,
        clusterCpus: cpus + (r() < 0.5 ? 0 : int(0, 256)),
        maxConnections: int(1, 5000),
      };
    }),
  ];
}

const MB = (v: unknown) => {
  const m = /^([0-9]+)MB$/.exec(String(v));
  assert.ok(m, `${JSON.stringify(v)} is not a whole number of MB`);
  return Number(m[1]);
};

// PostgreSQL 15's bounds (guc.c), in the units the values are written in
const INT_MAX = 2147483647;
const PG15 = {
  shared_buffers: [0.125, ((INT_MAX / 2) * 8) / 1024], // 16 to INT_MAX/2 blocks of 8 kB
  effective_cache_size: [0.008, (INT_MAX * 8) / 1024],
  work_mem: [0.0625, INT_MAX / 1024],
  maintenance_work_mem: [1, INT_MAX / 1024],
  max_wal_size: [2, INT_MAX],
  min_wal_size: [2, INT_MAX],
  max_worker_processes: [0, 262143],
  max_parallel_workers: [0, 1024],
  max_parallel_workers_per_gather: [0, 1024],
  max_parallel_maintenance_workers: [0, 1024],
  effective_io_concurrency: [0, 1000],
  checkpoint_completion_target: [0, 1],
} as const;

describe("computeTuning, over 3000 hosts", () => {
  const cases = hosts(3000).map((h) => ({
    h,
    t: computeTuning({ memoryMiB: h.memoryMiB, cpus: h.cpus }, h.clusterCpus, h.maxConnections),
  }));
  const each = (check: (h: Host, t: Record<string, string | number | boolean>) => void) => {
    for (const { h, t } of cases) {
      try {
        check(h, t);
      } catch (e) {
        (e as Error).message += `\n  host: ${JSON.stringify(h)}\n  tuning: ${JSON.stringify(t)}`;
        throw e;
      }
    }
  };

  it("computes every tuned setting, and only those", () => {
    each((_, t) => assert.deepEqual(Object.keys(t).sort(), [...TUNED_SETTINGS].sort()));
  });

  it("gives shared_buffers at most 40% of memory, and effective_cache_size at least shared_buffers", () => {
    each((h, t) => {
      assert.ok(MB(t.shared_buffers) <= 0.4 * h.memoryMiB);
      assert.ok(MB(t.effective_cache_size) >= MB(t.shared_buffers));
    });
  });

  it("keeps what every connection may sort in memory within a quarter of it (but for the 4MB floor)", () => {
    each((h, t) => assert.ok(MB(t.work_mem) === 4 || MB(t.work_mem) * h.maxConnections <= 0.25 * h.memoryMiB));
  });

  it("keeps min_wal_size at most max_wal_size, and maintenance_work_mem within 64MB to 2GB", () => {
    each((_, t) => {
      assert.ok(MB(t.min_wal_size) <= MB(t.max_wal_size));
      assert.ok(MB(t.maintenance_work_mem) >= 64 && MB(t.maintenance_work_mem) <= 2048);
    });
  });

  it("bounds the workers by the CPUs, within the worker processes, the same on every member of a cluster", () => {
    each((h, t) => {
      const [workers, processes] = [Number(t.max_parallel_workers), Number(t.max_worker_processes)];
      assert.ok(workers <= Math.max(2, h.cpus) && workers <= processes);
      assert.ok(Number(t.max_parallel_workers_per_gather) <= Math.min(4, workers));
      assert.ok(Number(t.max_parallel_maintenance_workers) <= Math.min(4, workers));
      assert.equal(processes, Math.max(8, h.clusterCpus), "a hot standby needs at least its leader's max_worker_processes");
    });
  });

  it("writes only values PostgreSQL 15 accepts", () => {
    each((_, t) => {
      for (const [name, [lo, hi]] of Object.entries(PG15)) {
        const v = typeof t[name] === "string" ? MB(t[name]) : Number(t[name]);
        assert.ok(Number.isFinite(v) && v >= lo && v <= hi, `${name} = ${t[name]} is outside ${lo}..${hi}`);
        if (!["checkpoint_completion_target"].includes(name)) assert.ok(Number.isInteger(v), `${name} = ${t[name]} is not whole`);
      }
      assert.equal(t.wal_buffers, "16MB");
      assert.ok(Number(t.random_page_cost) > 0);
    });
  });

  it("keeps shared_buffers at 128MB at least, more than 40% of a host under 320 MiB (such hosts are not drawn above)", () => {
    const t = computeTuning({ memoryMiB: 256, cpus: 1 }, 1, 100);
    assert.equal(t.shared_buffers, "128MB");
  });
});
