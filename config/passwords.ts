// What a password may hold: it travels in a passfile line (`host:port:db:user:password`), one
// per line, so a line break or another control character would cut it or add a line.
import { NAMESPACE } from "./spec";

export function passwordProblems(values: Record<string, string | undefined>): string[] {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined && /[\x00-\x1f\x7f]/.test(v))
    .map(([k]) => `${NAMESPACE}:${k}: contains a line break or another control character (a passfile line cannot carry it)`);
}
