// The pure parts of the policies: reading pg_hba lines out of a host step's script, telling a
// production stack by its name, telling a clear-text password from a verifier.
import { isProductionStackName } from "../lib/stackNames";

export interface HbaLine {
  text: string;
  database: string;
  user: string;
  method: string;
}

const HBA = /^(host|hostssl|hostnossl|hostgssenc|hostnogssenc)\s+("(?:[^"]|"")*"|\S+)\s+("(?:[^"]|"")*"|\S+)\s+(\S+)\s+(\S+)/;
const LOCAL = /^local\s+("(?:[^"]|"")*"|\S+)\s+("(?:[^"]|"")*"|\S+)\s+(\S+)/;
const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s);

/** Every line of `script` shaped like a pg_hba entry. */
export function hbaLines(script: string): HbaLine[] {
  const found: HbaLine[] = [];
  for (const raw of script.split("\n")) {
    const text = raw.trim();
    const h = HBA.exec(text);
    if (h) found.push({ text, database: unquote(h[2]), user: unquote(h[3]), method: h[5] });
    const l = LOCAL.exec(text);
    if (l) found.push({ text, database: unquote(l[1]), user: unquote(l[2]), method: l[3] });
  }
  return found;
}

export { isProductionStackName };

/** The same, from a resource's URN: urn:pulumi:<stack>::<project>::… */
export function isProductionStack(urn: string): boolean {
  return isProductionStackName(urn.split("::")[0].split(":").pop() ?? "");
}

export function looksLikePlainPassword(value: unknown): boolean {
  return typeof value === "string" && value !== "" && !/^(SCRAM-SHA-256\$|md5[0-9a-f]{32}$)/.test(value);
}

/** Whether a step's text carries password material: a passfile line, a clear-text PASSWORD clause, a JSON password. */
export function carriesPassword(text: string): boolean {
  return (
    /^[^\s:#]+:(\d+|\*):[^\s:]+:[^\s:]+:\S+$/m.test(text) ||
    /PASSWORD\s+'(?!SCRAM-SHA-256\$)[^']+'/i.test(text) ||
    /"password"\s*:\s*"[^"]+"/.test(text)
  );
}
