// The validation toolkit the section parsers (config/parse.ts) share: a Checker that collects
// every problem with its key path, and the checks of a field kind used in more than one section
// (a name, an address, an sslmode), each written once.
import { isIP } from "node:net";
import { nearest } from "../lib/nearest";
import { NAMESPACE, SSLMODES, SslMode } from "./spec";

export type Raw = Record<string, unknown>;

export function isObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isCidr(value: string): boolean {
  const [addr, bits, ...rest] = value.split("/");
  if (rest.length > 0 || bits === undefined || !/^[0-9]{1,3}$/.test(bits)) return false;
  const family = isIP(addr);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/** A cluster's or a host's name: it becomes part of resource names, file names and slot names. */
const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const PG_NAME_MAX = 63;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export class Checker {
  readonly problems: string[] = [];
  fail(key: string, message: string): void {
    this.problems.push(`${NAMESPACE}:${key}: ${message}`);
  }
  /** Unknown keys are mistakes (a typo such as `leadr:` would otherwise be ignored). */
  knownKeys(raw: Raw, known: string[], key: string): void {
    for (const k of Object.keys(raw)) {
      if (known.includes(k)) continue;
      const guess = nearest(k, known);
      this.fail(`${key}.${k}`, `is not a known key${guess ? `; did you mean ${JSON.stringify(guess)}?` : ""} (known: ${known.join(", ")})`);
    }
  }
  string(raw: Raw, field: string, key: string, fallback?: string): string {
    const v = raw[field];
    if (v === undefined || v === null || v === "") {
      if (fallback !== undefined) return fallback;
      this.fail(`${key}.${field}`, "is required");
      return "";
    }
    if (typeof v !== "string") {
      this.fail(`${key}.${field}`, `must be a string, got ${JSON.stringify(v)}`);
      return "";
    }
    return v;
  }
  port(raw: Raw, field: string, key: string, fallback: number): number {
    const v = raw[field] ?? fallback;
    const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
      this.fail(`${key}.${field}`, `must be a port number (1-65535), got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  }
  /** A cluster's or a host's name (required). */
  name(raw: Raw, field: string, key: string): string {
    const name = this.string(raw, field, key);
    if (name && !NAME.test(name))
      this.fail(`${key}.${field}`, "must be lowercase letters, digits and dashes, starting with a letter (at most 31)");
    return name;
  }
  /** A server's address: an IP address or a host name (required). */
  address(raw: Raw, field: string, key: string): string {
    const address = this.string(raw, field, key);
    if (address && isIP(address) === 0 && !HOSTNAME.test(address)) {
      this.fail(`${key}.${field}`, `is neither an IP address nor a host name: ${JSON.stringify(address)}`);
    }
    return address;
  }
  /** How a connection uses TLS; require when not set. */
  sslmode(raw: Raw, field: string, key: string): SslMode {
    const sslmode = this.string(raw, field, key, "require");
    if (!(SSLMODES as readonly string[]).includes(sslmode)) this.fail(`${key}.${field}`, `must be one of ${SSLMODES.join(", ")}`);
    return sslmode as SslMode;
  }
  /** A Unix user name (an SSH login); whether it is one. */
  unixUser(value: string, key: string): boolean {
    if (UNIX_USER.test(value)) return true;
    this.fail(key, `is not a Unix user name: ${JSON.stringify(value)}`);
    return false;
  }
  /** A role or database name as pg_hba.conf and SQL can carry it. */
  pgName(value: string, key: string): void {
    if (value.length > PG_NAME_MAX) this.fail(key, `is longer than ${PG_NAME_MAX} characters`);
    if (value.includes('"')) this.fail(key, "contains a double quote, which pg_hba.conf cannot represent");
    if (/^[+@]/.test(value)) this.fail(key, "starts with + or @, which pg_hba.conf reads as a group or a file");
  }
  array(raw: Raw, field: string, key: string, required: boolean): unknown[] {
    const v = raw[field];
    if (v === undefined || v === null) {
      if (required) this.fail(`${key}.${field}`, "is required (a non-empty list)");
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(`${key}.${field}`, "must be a list");
      return [];
    }
    if (required && v.length === 0) this.fail(`${key}.${field}`, "must not be empty");
    return v;
  }
}

/** Every string anywhere in the config, with its key: control characters are refused everywhere. */
export function checkControlCharacters(c: Checker, raw: unknown, key: string): void {
  if (typeof raw === "string") {
    if (CONTROL.test(raw)) c.fail(key, `contains a control character (${JSON.stringify(raw)})`);
  } else if (Array.isArray(raw)) {
    raw.forEach((v, i) => checkControlCharacters(c, v, `${key}[${i}]`));
  } else if (isObject(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      if (CONTROL.test(k)) c.fail(`${key}`, `has a key with a control character (${JSON.stringify(k)})`);
      else checkControlCharacters(c, v, `${key}.${k}`);
    }
  }
}
