// The `refresh` section of a cluster: which stack's backups this cluster's data comes from, the
// key its refresh reads them with, and the masking rules that run before any client may connect.
import { Checker, isObject } from "./check";
import { MASKING_RULES, MaskingRule, MaskingTable, RefreshSpec } from "./spec";

const REFRESH_KEYS = ["from", "cluster", "keyPath", "masking"];
const TABLE_KEYS = ["database", "table", "columns"];
const STACK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const PATH = /^\/[A-Za-z0-9._/-]*$/;

function parseRule(c: Checker, raw: unknown, key: string): MaskingRule {
  if (typeof raw === "string" && (MASKING_RULES as readonly string[]).includes(raw)) return raw as MaskingRule;
  if (isObject(raw) && Object.keys(raw).length === 1 && typeof raw.constant === "string") return { constant: raw.constant };
  c.fail(key, `must be one of ${MASKING_RULES.join(", ")}, or {constant: "a value"} (got ${JSON.stringify(raw)})`);
  return "null";
}

function parseTable(c: Checker, raw: unknown, key: string): MaskingTable {
  if (!isObject(raw)) {
    c.fail(key, "must be {database, table, columns: {column: rule}}");
    return { database: "", schema: "", table: "", columns: {} };
  }
  c.knownKeys(raw, TABLE_KEYS, key);
  const database = c.string(raw, "database", key);
  const qualified = c.string(raw, "table", key);
  const parts = qualified.split(".");
  if (qualified && (parts.length > 2 || parts.some((p) => p === "")))
    c.fail(`${key}.table`, `must be table or schema.table (got ${JSON.stringify(qualified)})`);
  const [schema, table] = parts.length === 2 ? parts : ["public", parts[0]];
  const columns: Record<string, MaskingRule> = {};
  if (!isObject(raw.columns) || Object.keys(raw.columns).length === 0)
    c.fail(`${key}.columns`, "must name at least one column and its rule, e.g. {email: email}");
  else for (const [column, rule] of Object.entries(raw.columns)) columns[column] = parseRule(c, rule, `${key}.columns.${column}`);
  return { database, schema, table, columns };
}

export function parseRefresh(c: Checker, raw: unknown, key: string, cluster: string): RefreshSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    c.fail(key, "must be {from, keyPath, masking}: the stack whose backups this cluster is refreshed from");
    return undefined;
  }
  c.knownKeys(raw, REFRESH_KEYS, key);
  const from = c.string(raw, "from", key);
  if (from && !STACK.test(from)) c.fail(`${key}.from`, `is not a stack name: ${JSON.stringify(from)}`);
  const fromCluster = c.string(raw, "cluster", key, cluster);
  const keyPath = c.string(raw, "keyPath", key);
  if (keyPath && (!PATH.test(keyPath) || keyPath.split("/").includes("..")))
    c.fail(`${key}.keyPath`, `must be an absolute path of letters, digits and . _ - / (got ${JSON.stringify(keyPath)})`);
  const masking = c.array(raw, "masking", key, false).map((t, i) => parseTable(c, t, `${key}.masking[${i}]`));
  const seen = new Set<string>();
  masking.forEach((t, i) => {
    const name = `${t.database}/${t.schema}.${t.table}`;
    if (seen.has(name))
      c.fail(`${key}.masking[${i}].table`, `${t.schema}.${t.table} of ${t.database} has two entries: merge their columns`);
    seen.add(name);
  });
  return { from, cluster: fromCluster, keyPath, masking };
}
