// A host script as a member receives it on stdin: `set -euo pipefail`, a header of quoted values,
// then a library of host/ and the verb's own file (read from host/, which ships with the program).
// The verb's first lines load the library when a tool reads the file on its own; here the library
// text stands in their place. The whole is the step's input, so `pulumi preview --diff` shows the
// lines a host would get.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DATA_DIR, PG_BIN, PG_CLUSTER, PG_MAJOR } from "../postgres15";
import { comment, sh } from "./sh";

const HOST_DIR = join(__dirname, "..", "host");
const LOADS_LIBRARY = 'source "${BASH_SOURCE[0]%/*}/lib.sh"\n';

const files = new Map<string, string>();
function hostFile(path: string): string {
  if (!files.has(path)) files.set(path, readFileSync(join(HOST_DIR, path), "utf8"));
  return files.get(path)!;
}

/** The verb's text after the lines that load the library. */
function verbBody(path: string): string {
  const text = hostFile(path);
  const at = text.indexOf(LOADS_LIBRARY);
  if (at < 0 || text.indexOf(LOADS_LIBRARY, at + 1) >= 0) throw new Error(`host/${path} must load lib.sh once, with: ${LOADS_LIBRARY}`);
  return text.slice(at + LOADS_LIBRARY.length);
}

/** The script: strict mode, the header's lines (each built with `sh`), the session's watch, the library, the verb. */
function assemble(library: string, verb: string, lines: string[]): string {
  return ["set -euo pipefail", ...lines, "", hostFile("session.sh"), hostFile(library), verbBody(verb)].join("\n");
}

/**
 * A cluster member's script, host/<verb>.sh after host/lib.sh: `about` and `observed` are comment
 * lines (`observed` says what made the step run again), `header` the verb's own values.
 */
export function hostScript(verb: string, host: string, about: string, header: string[], observed?: string): string {
  return assemble("lib.sh", `${verb}.sh`, [
    comment(`pg-replication: ${about} on ${host}`),
    ...(observed ? [comment(`observed at plan time: ${observed}`)] : []),
    sh`host=${host}`,
    sh`pgbin=${PG_BIN}`,
    sh`datadir=${DATA_DIR}`,
    sh`cluster=(${[PG_MAJOR, PG_CLUSTER]})`,
    ...header,
  ]);
}

/** A migration script, host/migration/<verb>.sh after host/migration/lib.sh, run on the target's leader. */
export function migrationScript(verb: string, host: string, header: string[]): string {
  return assemble("migration/lib.sh", `migration/${verb}.sh`, [sh`host=${host}`, sh`pgbin=${PG_BIN}`, sh`datadir=${DATA_DIR}`, ...header]);
}
