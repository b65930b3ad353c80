// `make typecheck` sees every TypeScript file of the project: a folder left out of tsconfig.json
// would never be type-checked (promote/ and policy/ once were).
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

describe("tsconfig.json", () => {
  it("covers every committed TypeScript file", () => {
    const { config } = ts.readConfigFile(path.join(ROOT, "tsconfig.json"), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
    const checked = new Set(parsed.fileNames.map((f) => path.relative(ROOT, f)));
    const committed = execFileSync("git", ["-C", ROOT, "ls-files", "*.ts"], { encoding: "utf8" }).split("\n").filter(Boolean);
    assert.ok(committed.length > 50, `git lists ${committed.length} files`);
    assert.deepEqual(
      committed.filter((f) => !checked.has(f)),
      [],
    );
  });
});
