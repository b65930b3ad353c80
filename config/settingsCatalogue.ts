// PostgreSQL 15's own catalogue of settings (pg15Settings.json, made from the server by
// scripts/pg15-settings.sh) and the server's rules for reading a value, so that a name or value
// PostgreSQL would refuse (a postgresql.conf holding one stops the server) is refused at preview.
// Pure. The rules follow PostgreSQL 15's parse_bool, parse_int, parse_real and its enum lookup:
// the unit tests hold values checked against a real server.
import { nearest } from "../lib/nearest";

export type SettingValue = string | number | boolean;

export interface CatalogueEntry {
  /** internal: fixed at build or initdb; postmaster: read at start (a restart); sighup: on reload; others per session. */
  context: string;
  vartype: "bool" | "integer" | "real" | "string" | "enum";
  /** The base unit of min, max and of a value given without a unit: B, kB, MB, 8kB (pages), us, ms, s, min. */
  unit?: string;
  min?: number;
  max?: number;
  enumvals?: string[];
  /** Spellings the server takes but does not list (e.g. true for on). */
  hidden?: string[];
}

const CATALOGUE = require("./pg15Settings.json") as { postgres: string; settings: Record<string, CatalogueEntry> };

/** Setting names are case-insensitive to PostgreSQL (DateStyle, datestyle). */
const ENTRIES = new Map(Object.entries(CATALOGUE.settings).map(([name, e]) => [name.toLowerCase(), e]));
const NAMES = [...ENTRIES.keys()];

export function catalogueEntry(name: string): CatalogueEntry | undefined {
  return ENTRIES.get(name.toLowerCase());
}

/** Units in the server's tables, largest first, with their size in bytes or microseconds. */
const MEMORY_UNITS: [string, number][] = [
  ["TB", 2 ** 40],
  ["GB", 2 ** 30],
  ["MB", 2 ** 20],
  ["kB", 2 ** 10],
  ["B", 1],
];
const TIME_UNITS: [string, number][] = [
  ["d", 86_400_000_000],
  ["h", 3_600_000_000],
  ["min", 60_000_000],
  ["s", 1_000_000],
  ["ms", 1_000],
  ["us", 1],
];
/** The server reads at most this many characters as a unit name. */
const MAX_UNIT_LEN = 3;
const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);
/** pg_settings prints the real settings' largest bound (DBL_MAX) rounded down to 6 digits. */
const PRINTED_DBL_MAX = 1.79769e308;

interface BaseUnit {
  kind: "memory" | "time";
  table: [string, number][];
  /** The base unit's size in bytes or microseconds. */
  size: number;
}

function baseUnit(unit: string | undefined): BaseUnit | undefined {
  if (!unit) return undefined;
  const memory = /^([0-9]*)(B|kB|MB)$/.exec(unit);
  if (memory)
    return { kind: "memory", table: MEMORY_UNITS, size: Number(memory[1] || 1) * MEMORY_UNITS.find(([u]) => u === memory[2])![1] };
  const time = TIME_UNITS.find(([u]) => u === unit);
  return time ? { kind: "time", table: TIME_UNITS, size: time[1] } : undefined;
}

/** C's isspace in the C locale. */
const isSpace = (ch: string | undefined) => ch !== undefined && " \t\n\v\f\r".includes(ch);
const skipSpace = (s: string, i: number) => {
  while (isSpace(s[i])) i++;
  return i;
};

/** C's rint: to the nearest integer, halves to the even one. */
export function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function digitValue(ch: string | undefined): number {
  if (ch === undefined) return 99;
  const d = parseInt(ch, 16);
  return Number.isNaN(d) ? 99 : d;
}

/** C's strtol(s, &end, 0) for a 64-bit long: decimal, 0x hexadecimal or 0 octal; end 0 when nothing was read. */
function strtol(s: string): { value: number; end: number; overflow: boolean } {
  let i = skipSpace(s, 0);
  const negative = s[i] === "-";
  if (s[i] === "+" || s[i] === "-") i++;
  let base = 10;
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && digitValue(s[i + 2]) < 16) [base, i] = [16, i + 2];
  else if (s[i] === "0") base = 8;
  const start = i;
  let n = 0n;
  for (; digitValue(s[i]) < base; i++) n = n * BigInt(base) + BigInt(digitValue(s[i]));
  if (i === start) return { value: 0, end: 0, overflow: false };
  const overflow = n > (negative ? 2n ** 63n : 2n ** 63n - 1n);
  return { value: Number(negative ? -n : n), end: i, overflow };
}

/** C's strtod: decimal or hexadecimal floats, inf, nan; erange on overflow or underflow. */
function strtod(s: string): { value: number; end: number; erange: boolean } {
  let i = skipSpace(s, 0);
  const sign = s[i] === "-" ? -1 : 1;
  if (s[i] === "+" || s[i] === "-") i++;
  const rest = s.slice(i);
  const word = /^(infinity|inf|nan(\([0-9A-Za-z_]*\))?)/i.exec(rest);
  if (word) return { value: /^i/i.test(word[0]) ? sign * Infinity : NaN, end: i + word[0].length, erange: false };
  let value: number;
  let digits: string;
  let text: string;
  const hex = /^0[xX](?=\.?[0-9a-fA-F])([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?/.exec(rest);
  const dec = /^(?=\.?[0-9])[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?/.exec(rest);
  if (hex) {
    [text, digits] = [hex[0], hex[1] + (hex[2] ?? "")];
    value = Number(BigInt(`0x${digits}`)) * 2 ** (Number(hex[3] ?? 0) - 4 * (hex[2] ?? "").length);
  } else if (dec) {
    [text, digits] = [dec[0], dec[0].replace(/[eE].*$/, "")];
    value = Number(text);
  } else {
    return { value: 0, end: 0, erange: false };
  }
  const underflow = /[1-9a-fA-F]/.test(digits) && Math.abs(value) < 2.2250738585072014e-308;
  return { value: sign * value, end: i + text.length, erange: !Number.isFinite(value) || underflow };
}

type Parsed = { value: number } | { problem: string };

/** The server's convert_to_base_unit: `rest` is what follows the number (spaces, a unit, spaces). */
function toBaseUnit(value: number, rest: string, base: BaseUnit): number | undefined {
  let end = 0;
  while (end < rest.length && end < MAX_UNIT_LEN && !isSpace(rest[end])) end++;
  if (skipSpace(rest, end) !== rest.length) return undefined;
  const i = base.table.findIndex(([u]) => u === rest.slice(0, end));
  if (i < 0) return undefined;
  let converted = value * (base.table[i][1] / base.size);
  // a fraction ("1.5GB") is first rounded to a whole number of the next smaller unit
  if (i + 1 < base.table.length) {
    const next = base.table[i + 1][1] / base.size;
    converted = rint(converted / next) * next;
  }
  return converted;
}

function unitHint(rest: string, base: BaseUnit, number: string): string {
  const unit = rest.trim();
  const same = base.table.find(([u]) => u.toLowerCase() === unit.toLowerCase());
  return same ? `; did you mean ${JSON.stringify(`${number}${same[0]}`)}? (units are case-sensitive)` : "";
}

/** parse_int and parse_real: a number, then optionally a unit if the setting has one. */
function parseNumber(text: string, e: CatalogueEntry, shown: string): Parsed {
  const integer = e.vartype === "integer";
  let value: number;
  let end: number;
  let failed = false;
  if (integer) {
    // an integer, unless it stops at a decimal point or an exponent, or overflows: then a float
    ({ value, end, overflow: failed } = strtol(text));
    if (failed || [".", "e", "E"].includes(text[end])) ({ value, end, erange: failed } = strtod(text));
  } else {
    ({ value, end, erange: failed } = strtod(text));
  }
  const invalid = { problem: `${shown} is not a valid value (${expected(e)})` };
  if (end === 0 || failed || Number.isNaN(value)) return invalid;
  const rest = text.slice(skipSpace(text, end));
  if (rest !== "") {
    const base = baseUnit(e.unit);
    if (!base) return { problem: `${shown} is not a valid value (${expected(e)}, without a unit)` };
    const converted = toBaseUnit(value, rest, base);
    if (converted === undefined) return { problem: `${invalid.problem}${unitHint(rest, base, text.slice(0, end).trim())}` };
    value = converted;
  }
  if (integer) {
    value = rint(value);
    if (value > INT_MAX || value < INT_MIN) return { problem: `${shown} is not a valid value (more than an integer setting holds)` };
  }
  return { value };
}

/** parse_bool: on, off, true, false, yes, no, 1, 0, or a prefix that is not ambiguous ("o" is). */
export function parseBool(text: string): boolean | undefined {
  const t = asciiLower(text);
  if (t === "") return undefined;
  const prefixOf = (word: string) => word.startsWith(t);
  if (t === "1") return true;
  if (t === "0") return false;
  if (t.length >= 2 && prefixOf("on")) return true;
  if (t.length >= 2 && prefixOf("off")) return false;
  if (prefixOf("true") || prefixOf("yes")) return true;
  if (prefixOf("false") || prefixOf("no")) return false;
  return undefined;
}

/** pg_strcasecmp folds ASCII letters only. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** A value as the config gave it: strings quoted (spaces show), numbers and booleans bare. */
const show = (value: SettingValue) => (typeof value === "string" ? JSON.stringify(value) : String(value));

function expected(e: CatalogueEntry): string {
  const base = baseUnit(e.unit);
  const units = base?.kind === "memory" ? "kB, MB, GB or TB" : "us, ms, s, min, h or d";
  switch (e.vartype) {
    case "bool":
      return "on or off; also true, false, yes, no, 1 or 0";
    case "enum":
      return `one of ${(e.enumvals ?? []).join(", ")}`;
    case "integer":
      return base ? `an integer with a unit ${units}` : "an integer";
    default:
      return base ? `a number with a unit ${units}` : "a number";
  }
}

/** A value in the setting's base unit, as people write it: 16 pages of 8kB are 128kB. */
export function formatInUnit(value: number, unit: string | undefined): string {
  const base = baseUnit(unit);
  if (!base || value <= 0 || !Number.isInteger(value)) return String(value);
  const amount = value * base.size;
  const [name, size] = base.table.find(([, s]) => amount % s === 0)!;
  return `${amount / size}${name}`;
}

/** The text PostgreSQL reads for a value (as render/quote.ts confValue writes it). */
export function settingText(value: SettingValue): string {
  return typeof value === "boolean" ? (value ? "on" : "off") : String(value);
}

/** The value in the setting's base unit, or the reason PostgreSQL 15 would refuse it. */
export function parseSetting(name: string, value: SettingValue): { value?: number | boolean | string; problem?: string } {
  if (name.includes(".")) return { value: settingText(value) }; // an extension's (custom) setting: its module checks it
  const e = catalogueEntry(name);
  if (!e) {
    const guess = nearest(name, NAMES);
    return { problem: `is not a PostgreSQL 15 setting${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""}` };
  }
  if (e.context === "internal") return { problem: "is fixed when PostgreSQL is built or its cluster is created; no file can set it" };
  const text = settingText(value);
  const shown = show(value);
  if (e.vartype === "bool") {
    const b = parseBool(text);
    return b === undefined ? { problem: `${shown} is not a valid value (${expected(e)})` } : { value: b };
  }
  if (e.vartype === "enum") {
    const known = [...(e.enumvals ?? []), ...(e.hidden ?? [])];
    if (known.some((v) => asciiLower(v) === asciiLower(text))) return { value: asciiLower(text) };
    const guess = nearest(text, e.enumvals ?? []);
    return { problem: `${shown} is not a valid value${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""} (${expected(e)})` };
  }
  if (e.vartype === "string") return { value: text };
  const parsed = parseNumber(text, e, shown);
  if ("problem" in parsed) return parsed;
  const min = e.min ?? -Infinity;
  const max = e.max === undefined ? Infinity : e.max >= PRINTED_DBL_MAX ? Number.MAX_VALUE : e.max;
  if (parsed.value < min || parsed.value > max) {
    const range = `${formatInUnit(min, e.unit)} .. ${formatInUnit(e.max ?? Infinity, e.unit)}`;
    return { problem: `${shown} is outside the valid range ${range}` };
  }
  return { value: parsed.value };
}

/** Why PostgreSQL 15 would refuse this setting or value in postgresql.conf, or undefined. */
export function checkSetting(name: string, value: SettingValue): string | undefined {
  return parseSetting(name, value).problem;
}

/** Whether a changed value takes a restart of the server. */
export function needsRestart(name: string): boolean {
  return catalogueEntry(name)?.context === "postmaster";
}

/** The bytes a memory setting's value stands for; undefined for an invalid value, a special one (-1) or another kind of setting. */
export function memoryBytes(name: string, value: SettingValue): number | undefined {
  const e = catalogueEntry(name);
  const base = baseUnit(e?.unit);
  if (!e || base?.kind !== "memory" || e.vartype !== "integer") return undefined;
  const parsed = parseSetting(name, value);
  return typeof parsed.value === "number" && parsed.value >= 0 ? parsed.value * base.size : undefined;
}
