// Columns whose names say personal data (an email, a phone, a name…): on a cluster that a refresh
// fills from another stack's backups, each must have a masking rule, or it arrives as it is.
import { MaskingTable } from "../config";

/** Case-insensitive, on column names; host/refresh.sh's report uses the same one. */
export const PERSONAL_COLUMN_PATTERN =
  "(e_?mail|phone|mobile|(first|last|full|sur|given|user)_?name|^name$|address|birth|ssn|passport|iban|card)";

/** Run in one database: its tables' personal-looking columns, one `schema.table.column` a line. */
export const PERSONAL_COLUMNS_SQL =
  "select table_schema || '.' || table_name || '.' || column_name from information_schema.columns c " +
  "join pg_class r on r.oid = (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass and r.relkind in ('r', 'p') " +
  `where table_schema not in ('pg_catalog', 'information_schema') and column_name ~* '${PERSONAL_COLUMN_PATTERN}' order by 1`;

/** The `database.schema.table.column` names seen that no rule of `masking` covers. */
export function unmaskedColumns(seen: string[], masking: MaskingTable[]): string[] {
  const covered = new Set(masking.flatMap((t) => Object.keys(t.columns).map((col) => `${t.database}.${t.schema}.${t.table}.${col}`)));
  return [...new Set(seen)].filter((name) => !covered.has(name)).sort();
}
