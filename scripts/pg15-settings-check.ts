// `CHECK=1 bash scripts/pg15-settings.sh`: puts values to the throwaway server that script starts
// and compares its verdicts with checkSetting's. Two steps, so that the shell script runs psql:
//   node ... pg15-settings-check.ts sql                # the ALTER SYSTEM statements, on stdout
//   node ... pg15-settings-check.ts compare <results>  # psql's "<case> ok|refused" lines
// The cases: the unit tests' table of verdicts, and a sweep of odd values over every setting a
// value can be checked for (strings have only the server's check hooks).
import * as fs from "node:fs";
import { SettingValue, catalogueEntry, checkSetting, settingText } from "../config/settingsCatalogue";
import { accepted, refused } from "../test/unit/config/settingVerdicts";

const SWEEP = [
  ...["64MB", "64mb", "64 MB", " 64MB", "64MB ", "64 megabytes", "1.5GB", "0.5kB", "1B", "8191B", "8192B", "12287B", "12288B"],
  ...["1TB", "2TB", "900GB", "0.0001TB", "1 kB", "1\tkB", "1kB\t", "1k", "1KB", "1Mb", "10 MBs", "1e2MB", "0x10MB", "1.0000001GB"],
  ...["-1", "0", "1", "16", "100", "0x10", "0X1f", "010", "08", "1e3", "1.5", "-0.5", "0.4", "0.5", "2.5", "-1.5", "7.5", "-0"],
  ...["2147483647", "2147483648", "-2147483648", "-2147483649", "9999999999999999999999", "262143", "262144", "+5", ".5", " .5"],
  ...["5min", "5 min", "1h", "1d", "100us", "1500us", "0.5s", "1.5min", "30s", "10ms", "1m", "5mins", "2147483648ms", "3000000d"],
  ...["inf", "-inf", "nan", "Infinity", "1e309", "1e-400", "0x1p3", "", "1e", "1e+", "0x", "1.e2", "0.001", "1e-3"],
  ...["on", "off", "true", "False", "yes", "n", "o", "of", "t", "truee", "2", "ON", "Off", "YES", "nO", "tr", "fa", "y", "true "],
  ...["remote_apply", "REPLICA", "logical", "minimal", "hot_standby", "debug", "info", "pglz", "lz4", "zstd", "auto", "try"],
  ...["local", "mmap", "posix", "fsync", "scram-sha-256", "md5", "warning", "log", "error", "panic", "none", "all", "hex", "xml"],
];

/** Settings whose server-side check depends on more than the value: where the verdicts may differ. */
const KNOWN: Record<string, string> = {
  max_connections: "the sum with autovacuum_max_workers, max_worker_processes and max_wal_senders is at most 262143",
  autovacuum_max_workers: "in the sum with max_connections",
  max_worker_processes: "in the sum with max_connections",
  max_wal_senders: "in the sum with max_connections",
  max_stack_depth: "at most the host's stack limit (ulimit -s) less a margin",
  bonjour: "on only where the server was built with Bonjour",
  transaction_isolation: "ALTER SYSTEM refuses it outside a transaction; a file takes it",
  transaction_read_only: "ALTER SYSTEM refuses it outside a transaction; a file takes it",
  transaction_deferrable: "ALTER SYSTEM refuses it outside a transaction; a file takes it",
};

function cases(): [string, SettingValue][] {
  const table: [string, SettingValue][] = [...accepted, ...refused.map(([n, v]): [string, SettingValue] => [n, v])];
  const names = Object.keys(require("../config/pg15Settings.json").settings as object).filter((n) => {
    const e = catalogueEntry(n)!;
    return e.vartype !== "string" && e.context !== "internal";
  });
  return [...table.filter(([n]) => !n.includes(".")), ...names.flatMap((n) => SWEEP.map((v): [string, SettingValue] => [n, v]))];
}

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

function main(): void {
  const all = cases();
  if (process.argv[2] === "sql") {
    all.forEach(([name, value], i) => {
      console.log(`alter system set ${name} = ${literal(settingText(value))};`);
      console.log(`\\if :ERROR\n\\echo ${i} refused\n\\else\n\\echo ${i} ok\n\\endif`);
    });
    console.log("alter system reset all;");
    return;
  }
  let unexpected = 0;
  let known = 0;
  for (const line of fs.readFileSync(process.argv[3], "utf8").split("\n").filter(Boolean)) {
    const [i, verdict] = line.split(" ");
    const [name, value] = all[Number(i)];
    const mine = checkSetting(name, value);
    if ((verdict === "ok") === (mine === undefined)) continue;
    if (KNOWN[name]) known++;
    else unexpected++;
    if (!KNOWN[name]) console.error(`differs: ${name} = ${JSON.stringify(value)}: server ${verdict}, checkSetting ${mine ?? "ok"}`);
  }
  console.error(
    `pg15-settings: ${all.length} values put to the server, ${unexpected} verdicts differ (and ${known} where a check hook decides)`,
  );
  process.exit(unexpected > 0 ? 1 : 0);
}

main();
