// Golden files: a rendered text compared with its committed copy, so that a change to what a host
// receives shows in review. UPDATE_GOLDEN=1 rewrites the copies instead.
import { strict as assert } from "node:assert";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const GOLDEN_DIR = join(__dirname, "..", "unit", "render", "golden");

export function assertGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === "1") {
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `no golden file ${path}: UPDATE_GOLDEN=1 make test-unit writes it`);
  assert.equal(actual, readFileSync(path, "utf8"), `${name} differs from its golden file (UPDATE_GOLDEN=1 make test-unit rewrites it)`);
}
