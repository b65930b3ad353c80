// checkSetting against the server's own verdicts (settingVerdicts.ts), and its helpers.
import { strict as assert } from "node:assert";
import { accepted, refused } from "./settingVerdicts";
import { catalogueEntry, checkSetting, formatInUnit, memoryBytes, needsRestart, rint } from "../../../config/settingsCatalogue";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe("checkSetting: PostgreSQL 15's catalogue and parsing rules", () => {
  for (const [name, value] of accepted) {
    it(`accepts ${name} = ${JSON.stringify(value)}`, () => assert.equal(checkSetting(name, value), undefined));
  }
  for (const [name, value, message] of refused) {
    it(`refuses ${name} = ${JSON.stringify(value)}`, () => assert.equal(checkSetting(name, value), message));
  }
});

describe("the catalogue", () => {
  it("is PostgreSQL 15's, with units, ranges, enum values and contexts", () => {
    assert.deepEqual(catalogueEntry("shared_buffers"), {
      context: "postmaster",
      vartype: "integer",
      unit: "8kB",
      min: 16,
      max: 1073741823,
    });
    assert.deepEqual(catalogueEntry("wal_level")?.enumvals, ["minimal", "replica", "logical"]);
    assert.equal(catalogueEntry("statement_timeout")?.unit, "ms");
    assert.equal(catalogueEntry("TimeZone"), catalogueEntry("timezone"));
  });
  it("says which settings take a restart", () => {
    assert.equal(needsRestart("shared_buffers"), true);
    assert.equal(needsRestart("work_mem"), false);
  });
});

describe("memoryBytes", () => {
  it("reads a memory setting in bytes, whatever its base unit", () => {
    assert.equal(memoryBytes("shared_buffers", "128MB"), 128 * MiB);
    assert.equal(memoryBytes("shared_buffers", 16384), 128 * MiB); // 8kB pages
    assert.equal(memoryBytes("work_mem", 4096), 4 * MiB); // kB
    assert.equal(memoryBytes("max_wal_size", 1024), GiB); // MB
    assert.equal(memoryBytes("effective_cache_size", "1.5GB"), 1.5 * GiB);
    assert.equal(memoryBytes("effective_cache_size", "12287B"), 8192); // rounded to whole pages as the server does
  });
  it("is undefined for special, invalid and non-memory values", () => {
    assert.equal(memoryBytes("wal_buffers", -1), undefined);
    assert.equal(memoryBytes("work_mem", "64mb"), undefined);
    assert.equal(memoryBytes("statement_timeout", "5min"), undefined);
    assert.equal(memoryBytes("nonexistent", "5MB"), undefined);
  });
});

describe("number helpers", () => {
  it("rounds halves to even, as C's rint", () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(rint), [0, 2, 2, -0, -2, 2, 3]);
  });
  it("writes a value in its largest exact unit", () => {
    assert.equal(formatInUnit(16, "8kB"), "128kB");
    assert.equal(formatInUnit(131072, "8kB"), "1GB");
    assert.equal(formatInUnit(300000, "ms"), "5min");
    assert.equal(formatInUnit(-1, "kB"), "-1");
    assert.equal(formatInUnit(0, "ms"), "0");
    assert.equal(formatInUnit(7, undefined), "7");
  });
});
