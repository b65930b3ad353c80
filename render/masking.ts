// The masking a refresh runs in one database, as SQL for psql: deterministic fakes keyed by a
// secret (the same input gives the same output, so joins and unique keys on masked columns still
// hold), written with triggers off (an audit trigger would copy the real values), then each
// masked table rewritten so that no dead row version keeps a real value.
import { MaskingRule, MaskingTable } from "../config";
import { sqlIdent, sqlLiteral } from "./quote";

const FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jun", "Kai", "Lena", "Milo", "Nia", "Omar", "Pia"];
const LAST = [
  "Acre",
  "Birch",
  "Cole",
  "Dale",
  "Ember",
  "Frost",
  "Glen",
  "Hale",
  "Iver",
  "Jade",
  "Knox",
  "Lowe",
  "Marsh",
  "Nash",
  "Oak",
  "Pike",
];

/** The functions, in pg_temp: gone with the session, nothing left in the database. */
export function maskingFunctions(key: string): string {
  const h = `md5(${sqlLiteral(key)} || ':' || v)`;
  const pick = (names: string[], from: number) =>
    `(${sqlLiteral(`{${names.join(",")}}`)}::text[])[1 + ('x' || substr(${h}, ${from}, 1))::bit(4)::int]`;
  const fn = (name: string, body: string) =>
    `create function pg_temp.pgr_mask_${name}(v text) returns text language sql immutable as $$ select case when v is null then null else ${body} end $$;`;
  return [
    fn("email", `'user_' || substr(${h}, 1, 12) || '@example.invalid'`),
    fn("name", `${pick(FIRST, 1)} || ' ' || ${pick(LAST, 2)} || '-' || substr(${h}, 3, 4)`),
    fn("phone", `'+1-555-' || lpad((('x' || substr(${h}, 1, 7))::bit(28)::int % 10000000)::text, 7, '0')`),
    fn("text", `'masked ' || substr(${h}, 1, 16)`),
    fn("hash", h),
  ].join("\n");
}

function maskedValue(column: string, rule: MaskingRule): string {
  if (typeof rule === "object") return sqlLiteral(rule.constant);
  if (rule === "null") return "null";
  return `pg_temp.pgr_mask_${rule}(${sqlIdent(column)}::text)`;
}

/** Masks every listed table of one database in one transaction, then rewrites each (VACUUM FULL). */
export function renderMaskingSql(tables: MaskingTable[], key: string): string {
  const updates = tables.map((t) => {
    const sets = Object.entries(t.columns).map(([column, rule]) => `${sqlIdent(column)} = ${maskedValue(column, rule)}`);
    return `update ${sqlIdent(t.schema)}.${sqlIdent(t.table)} set ${sets.join(", ")};`;
  });
  const rewrites = tables.map((t) => `vacuum (full, analyze) ${sqlIdent(t.schema)}.${sqlIdent(t.table)};`);
  return [
    "\\set ON_ERROR_STOP on",
    "begin;",
    "set local session_replication_role = replica;",
    maskingFunctions(key),
    ...updates,
    "commit;",
    ...rewrites,
    "",
  ].join("\n");
}
