// The engine suites run the program from a copy of the files it needs (test/support/engine.ts):
// a module moved to a new folder must be in that copy too, or every engine suite fails at once.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_FILES } from "../support/engine";

const ROOT = path.resolve(__dirname, "../..");

/** index.ts and every project file it imports, directly or not (relative imports only). */
function programFiles(): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    // lazily required step scripts (migrate/*.ts run as commands) are found by their own imports
    for (const m of text.matchAll(/(?:from|require\(|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
      const base = path.join(path.dirname(file), m[1]);
      const found = [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(path.join(ROOT, f)));
      if (found) visit(found);
    }
  };
  visit("index.ts");
  for (const f of fs.readdirSync(path.join(ROOT, "migrate"))) visit(path.join("migrate", f));
  return [...seen].sort();
}

describe("the engine suites' copy of the program", () => {
  it("holds every file the program imports", () => {
    const files = programFiles();
    assert.ok(files.includes(path.join("config", "index.ts")), files.join(", "));
    const covered = (f: string) => PROJECT_FILES.some((p) => f === p || f.startsWith(`${p}/`));
    assert.deepEqual(
      files.filter((f) => !covered(f)),
      [],
    );
  });
});
