import { strict as assert } from "node:assert";
import { checkMemory, clusterMemoryProblems, formatMemory } from "../../../config/hostMemory";
import { clusterSpec } from "../fixtures";

const GiB = 2 ** 30;
/** A "24 GiB" host as /proc/meminfo reports it: a little less. */
const HOST = 23.4 * GiB;
const facts = (memoryMiB: number) => ({ memoryMiB, cpus: 4 });

describe("checkMemory", () => {
  it("refuses shared_buffers more than the host's memory", () => {
    assert.deepEqual(checkMemory({ shared_buffers: "900GB" }, HOST, "pg2"), [
      { setting: "shared_buffers", message: "900GB is more than pg2's memory (23.4 GiB)" },
    ]);
  });

  it("refuses effective_cache_size and one operation's limits more than the memory, with the size of a bare number", () => {
    const found = checkMemory({ effective_cache_size: "32GB", work_mem: 26214400, maintenance_work_mem: "2GB" }, HOST, "pg1");
    assert.deepEqual(found, [
      { setting: "effective_cache_size", message: "32GB is more than pg1's memory (23.4 GiB)" },
      { setting: "work_mem", message: "26214400 (25GB) is more than pg1's memory (23.4 GiB)" },
    ]);
  });

  it("accepts what fits, special values, and memory units that are not the host's memory", () => {
    const settings = {
      shared_buffers: "20GB", // most of it, but the host may be dedicated: not certainly wrong
      effective_cache_size: "23GB",
      work_mem: "1GB",
      wal_buffers: -1,
      autovacuum_work_mem: -1,
      max_wal_size: "64GB", // disk
      max_connections: 10000, // work_mem × max_connections is not a rule
    };
    assert.deepEqual(checkMemory(settings, HOST, "pg1"), []);
  });

  it("leaves invalid values to checkSetting", () => {
    assert.deepEqual(checkMemory({ shared_buffers: "900 gigabytes" }, HOST, "pg1"), []);
  });

  it("writes memory as GiB or MiB", () => {
    assert.equal(formatMemory(HOST), "23.4 GiB");
    assert.equal(formatMemory(512 * 2 ** 20), "512 MiB");
  });
});

describe("clusterMemoryProblems", () => {
  const observed = { pg1: facts(24000), pg2: facts(23961), pg3: facts(65536) };

  it("names the key that set the value, for each host too small for it", () => {
    const spec = clusterSpec({ tuning: { shared_buffers: "900GB" }, settings: { effective_cache_size: "40GB" } });
    assert.deepEqual(clusterMemoryProblems(spec, 0, observed), [
      "pg-replication:clusters[0].tuning.shared_buffers: 900GB is more than pg1's memory (23.4 GiB)",
      "pg-replication:clusters[0].settings.effective_cache_size: 40GB is more than pg1's memory (23.4 GiB)",
      "pg-replication:clusters[0].tuning.shared_buffers: 900GB is more than pg2's memory (23.4 GiB)",
      "pg-replication:clusters[0].settings.effective_cache_size: 40GB is more than pg2's memory (23.4 GiB)",
      "pg-replication:clusters[0].tuning.shared_buffers: 900GB is more than pg3's memory (64.0 GiB)",
    ]);
  });

  it("judges the value the host runs with: settings over tuning", () => {
    const spec = clusterSpec({ tuning: { shared_buffers: "900GB" }, settings: { shared_buffers: "4GB" } });
    assert.deepEqual(clusterMemoryProblems(spec, 0, observed), []);
  });

  it("never refuses the computed tuning, even on a tiny host, nor a host marked down", () => {
    assert.deepEqual(clusterMemoryProblems(clusterSpec(), 0, { pg1: facts(256), pg2: facts(256), pg3: facts(256) }), []);
    const spec = clusterSpec({ settings: { shared_buffers: "30GB" } });
    spec.hosts[0].down = true;
    spec.hosts[1].down = true;
    assert.deepEqual(clusterMemoryProblems(spec, 2, { pg3: facts(16384) }), [
      "pg-replication:clusters[2].settings.shared_buffers: 30GB is more than pg3's memory (16.0 GiB)",
    ]);
  });

  it("checks settings when tuning is off", () => {
    const spec = clusterSpec({ tuning: false, settings: { work_mem: "100GB" } });
    assert.equal(clusterMemoryProblems(spec, 0, { pg1: facts(65536), pg2: facts(262144), pg3: facts(262144) }).length, 1);
  });
});
