// The report and the promotion give each stack's workspace its own passphrase, as
// scripts/passphrase.sh decided it, and no Pulumi command inherits one meant for another stack.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { stackVarSuffix, takeStackPassphrases } from "../../lib/stackPassphrase";

const ROOT = path.resolve(__dirname, "../..");

describe("each stack's passphrase in one run", () => {
  it("names a stack's variables as scripts/passphrase.sh does", () => {
    assert.equal(stackVarSuffix("sandbox-production"), "SANDBOX_PRODUCTION");
    assert.equal(stackVarSuffix("eu.staging2"), "EU_STAGING2");
  });

  it("gives each stack its own, else the one for every stack, and takes that one out of the environment", () => {
    const env: NodeJS.ProcessEnv = {
      PULUMI_CONFIG_PASSPHRASE: "every",
      PULUMI_CONFIG_PASSPHRASE_STAGING: "s",
      PULUMI_CONFIG_PASSPHRASE_FILE_PRODUCTION: "/run/production",
    };
    const of = takeStackPassphrases(env);
    assert.deepEqual(of("staging"), { PULUMI_CONFIG_PASSPHRASE: "s" });
    assert.deepEqual(of("production"), { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/production" });
    assert.deepEqual(of("dev"), { PULUMI_CONFIG_PASSPHRASE: "every" });
    assert.equal("PULUMI_CONFIG_PASSPHRASE" in env, false);
  });

  it("gives none where none was set: no fallback to the sandbox passphrase", () => {
    const of = takeStackPassphrases({ PULUMI_CONFIG_PASSPHRASE_STAGING: "" });
    assert.deepEqual(of("dev"), {});
    assert.deepEqual(of("staging"), {});
  });

  for (const tool of ["report/prPreview.ts", "promote/promote.ts"])
    it(`${tool} opens every stack with that stack's passphrase`, () => {
      const source = fs.readFileSync(path.join(ROOT, tool), "utf8");
      assert.match(source, /takeStackPassphrases\(\)/);
      const opens = source.match(/LocalWorkspace\.\w+\([^)]*\)/g) ?? [];
      assert.ok(opens.length > 0);
      for (const call of opens) assert.match(call, /\{ envVars: passphraseOf\(\w+\)$/, call);
    });
});
