// Quoting for every identifier, literal and shell word built from stack config.

/** A SQL identifier, always double-quoted: `"app"`, `"we""ird"`. */
export function sqlIdent(name: string): string {
  if (name.includes("\0")) throw new Error(`identifier contains a NUL byte: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** A SQL string literal with standard_conforming_strings (the default since 9.1). */
export function sqlLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("literal contains a NUL byte");
  const quoted = value.replace(/'/g, "''");
  // a backslash means the same whatever standard_conforming_strings is only in an E'' literal
  return value.includes("\\") ? `E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

/** A value in a libpq connection string: `'it\\'s'`. */
export function conninfoValue(value: string | number): string {
  return `'${String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** A field of a .pgpass line (`:` and `\` escaped). */
export function passfileField(value: string | number): string {
  return String(value).replace(/\\/g, "\\\\").replace(/:/g, "\\:");
}

/** A single shell word for POSIX sh: `plain`, `'a b'`, `"it's"` (nothing expands in it), `'$it'\''s'`. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(word)) return word;
  // a word with single quotes and nothing double quotes would expand reads better double-quoted
  if (word.includes("'") && !/[\\"$`!]/.test(word)) return `"${word}"`;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A value in postgresql.conf: numbers and simple words bare, anything else single-quoted. */
export function confValue(value: string | number | boolean): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "on" : "off";
  if (/^-?[0-9]+(\.[0-9]+)?([kMGT]?B|ms|s|min|h|d)?$/.test(value) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) return value;
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** A libpq connection string, keys in the order given, every value quoted; undefined values are left out. */
export function conninfo(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([key, value]) => {
      if (!/^[a-z_]+$/.test(key)) throw new Error(`not a libpq keyword: ${key}`);
      return `${key}=${conninfoValue(value)}`;
    })
    .join(" ");
}
