// Every verdict below was put to a PostgreSQL 15 server (ALTER SYSTEM SET, which validates a value
// whatever its context) and is the server's own: accepted values it took, refused ones it refused.
// One exception: ALTER SYSTEM refuses an extension's setting while the extension is not loaded,
// where postgresql.conf, the file the program writes, takes it as a placeholder (checked with
// `postgres -C`). `SET work_mem = '64mb'` is refused too: units are case-sensitive.
import { strict as assert } from "node:assert";
import {
  SettingValue,
  catalogueEntry,
  checkSetting,
  formatInUnit,
  memoryBytes,
  needsRestart,
  rint,
} from "../../../config/settingsCatalogue";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

const accepted: [string, SettingValue][] = [
  ["shared_buffers", "128MB"],
  ["shared_buffers", "1GB"],
  ["shared_buffers", 16384],
  ["shared_buffers", "128kB"],
  ["effective_cache_size", "12288B"], // 1.5 pages: rounded to 2
  ["wal_level", "logical"],
  ["wal_level", "minimal"], // the catalogue takes it; config.ts refuses it for standbys
  ["wal_level", "REPLICA"],
  ["wal_level", "hot_standby"], // an old name the server still takes
  ["synchronous_commit", "remote_apply"],
  ["synchronous_commit", true],
  ["synchronous_commit", "yes"],
  ["work_mem", "64MB"],
  ["work_mem", "64 MB"],
  ["work_mem", " 64MB "],
  ["work_mem", "1.5GB"],
  ["work_mem", "0x10MB"],
  ["work_mem", "1e2MB"],
  ["work_mem", 4096],
  ["work_mem", "2147483647kB"],
  ["work_mem", "0.001TB"], // rounded to whole GB: 1GB
  ["statement_timeout", "5min"],
  ["statement_timeout", "1.5h"],
  ["statement_timeout", "1500us"],
  ["statement_timeout", 0],
  ["checkpoint_timeout", "30s"],
  ["log_rotation_age", "1d"],
  ["max_connections", 400],
  ["max_connections", "010"], // octal: 8
  ["max_connections", "0x10"],
  ["max_connections", "1e3"],
  ["max_connections", "7.5"], // rounded to 8
  ["max_connections", " +5"],
  ["autovacuum_work_mem", -1],
  ["wal_buffers", "-1"],
  ["hot_standby", "on"],
  ["hot_standby", "of"],
  ["hot_standby", "TR"],
  ["hot_standby", "n"],
  ["hot_standby", 1],
  ["hot_standby", false],
  ["random_page_cost", 1.1],
  ["random_page_cost", "1.e2"],
  ["random_page_cost", ".5"],
  ["random_page_cost", "0x1p3"],
  ["random_page_cost", "1e308"],
  ["vacuum_cost_delay", "1500us"],
  ["vacuum_cost_delay", "0.5"],
  ["checkpoint_completion_target", 0.9],
  ["client_min_messages", "info"],
  ["DateStyle", "ISO, DMY"],
  ["datestyle", "ISO, DMY"],
  ["search_path", "app, public"],
  ["pg_stat_statements.max", 10000],
  ["auto_explain.log_min_duration", "anything at all"],
];

const refused: [string, SettingValue, string][] = [
  ["wrok_mem", "64MB", 'is not a PostgreSQL 15 setting; did you mean "work_mem"?'],
  ["shared_bufers", "1GB", 'is not a PostgreSQL 15 setting; did you mean "shared_buffers"?'],
  ["no_such_thing_at_all", 1, "is not a PostgreSQL 15 setting"],
  ["work_mem", "64 megabytes", '"64 megabytes" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  [
    "work_mem",
    "64mb",
    '"64mb" is not a valid value (an integer with a unit kB, MB, GB or TB); did you mean "64MB"? (units are case-sensitive)',
  ],
  [
    "work_mem",
    "1KB",
    '"1KB" is not a valid value (an integer with a unit kB, MB, GB or TB); did you mean "1kB"? (units are case-sensitive)',
  ],
  ["work_mem", "64k", '"64k" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  ["work_mem", "10 MBs", '"10 MBs" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  ["work_mem", "5min", '"5min" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  ["work_mem", "63kB", '"63kB" is outside the valid range 64kB .. 2147483647kB'],
  ["work_mem", "0.0001TB", '"0.0001TB" is outside the valid range 64kB .. 2147483647kB'], // rounded to whole GB: 0
  ["work_mem", "2TB", '"2TB" is not a valid value (more than an integer setting holds)'],
  ["work_mem", "2147483648kB", '"2147483648kB" is not a valid value (more than an integer setting holds)'],
  ["work_mem", "", '"" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  ["work_mem", " .5", '" .5" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  ["work_mem", "08", '"08" is not a valid value (an integer with a unit kB, MB, GB or TB)'],
  ["shared_buffers", "900TB", '"900TB" is not a valid value (more than an integer setting holds)'],
  ["shared_buffers", "8TB", '"8TB" is outside the valid range 128kB .. 8589934584kB'],
  ["shared_buffers", "1kB", '"1kB" is outside the valid range 128kB .. 8589934584kB'],
  ["shared_buffers", "9999999999999999999999", '"9999999999999999999999" is not a valid value (more than an integer setting holds)'],
  ["max_connections", 0, "0 is outside the valid range 1 .. 262143"],
  ["max_connections", "2147483648", '"2147483648" is not a valid value (more than an integer setting holds)'],
  ["max_connections", "100MB", '"100MB" is not a valid value (an integer, without a unit)'],
  ["max_connections", "lots", '"lots" is not a valid value (an integer)'],
  ["max_connections", "1e", '"1e" is not a valid value (an integer, without a unit)'],
  ["statement_timeout", "5 minutes", '"5 minutes" is not a valid value (an integer with a unit us, ms, s, min, h or d)'],
  ["statement_timeout", "5m", '"5m" is not a valid value (an integer with a unit us, ms, s, min, h or d)'],
  ["statement_timeout", "3000000d", '"3000000d" is not a valid value (more than an integer setting holds)'],
  ["statement_timeout", -1, "-1 is outside the valid range 0 .. 2147483647ms"],
  ["wal_level", "replca", '"replca" is not a valid value; did you mean "replica"? (one of minimal, replica, logical)'],
  ["wal_level", "archival", '"archival" is not a valid value (one of minimal, replica, logical)'],
  [
    "synchronous_commit",
    "remote_aply",
    '"remote_aply" is not a valid value; did you mean "remote_apply"? (one of local, remote_write, remote_apply, on, off)',
  ],
  ["wal_level", true, "true is not a valid value (one of minimal, replica, logical)"],
  ["hot_standby", "o", '"o" is not a valid value (on or off; also true, false, yes, no, 1 or 0)'],
  ["hot_standby", "2", '"2" is not a valid value (on or off; also true, false, yes, no, 1 or 0)'],
  ["hot_standby", "truee", '"truee" is not a valid value (on or off; also true, false, yes, no, 1 or 0)'],
  ["hot_standby", "true ", '"true " is not a valid value (on or off; also true, false, yes, no, 1 or 0)'],
  ["random_page_cost", "nan", '"nan" is not a valid value (a number)'],
  ["random_page_cost", "inf", '"inf" is outside the valid range 0 .. 1.79769e+308'],
  ["random_page_cost", "1e309", '"1e309" is not a valid value (a number)'],
  ["random_page_cost", "1e-400", '"1e-400" is not a valid value (a number)'],
  ["random_page_cost", "-0.5", '"-0.5" is outside the valid range 0 .. 1.79769e+308'],
  ["checkpoint_completion_target", 1.5, "1.5 is outside the valid range 0 .. 1"],
  ["vacuum_cost_delay", "1s", '"1s" is outside the valid range 0 .. 100ms'],
  ["block_size", 16384, "is fixed when PostgreSQL is built or its cluster is created; no file can set it"],
  ["server_version", "16", "is fixed when PostgreSQL is built or its cluster is created; no file can set it"],
];

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
