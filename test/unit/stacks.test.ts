// The committed stack files are valid as a whole: every `pg-replication:` key goes through the real
// parser as index.ts hands it over (so a typo in protect or migration fails here, not at a
// preview), and only the secrets an environment sets itself may be missing.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { ConfigError, MIGRATION_SECRET_KEY, NAMESPACE, PREVIEW_SECRET_KEY, SECRET_KEYS, parseStackConfig } from "../../config";

const ROOT = path.resolve(__dirname, "../..");
const STACKS = fs
  .readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined)
  .sort();

const read = (stack: string) => fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");

/** The problems `pulumi up` would report for a stack file's text, read as index.ts reads the config. */
function check(text: string): string[] {
  const config = (load(text) as { config?: Record<string, unknown> }).config ?? {};
  const ours = Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith(`${NAMESPACE}:`))
      .map(([k, v]) => [k.slice(NAMESPACE.length + 1), v]),
  );
  const secretNames = [...SECRET_KEYS, MIGRATION_SECRET_KEY, PREVIEW_SECRET_KEY];
  const isSecret = (v: unknown) => typeof v === "object" && v !== null && "secure" in v;
  try {
    parseStackConfig(
      { clusters: ours.clusters, migration: ours.migration, protect: ours.protect, keys: Object.keys(ours) },
      Object.fromEntries(secretNames.map((k) => [k, k in ours])),
      new Set(secretNames.filter((k) => isSecret(ours[k]))),
    );
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe("committed stacks", () => {
  it("are found", () => {
    for (const stack of ["dev", "staging", "production"])
      assert.ok(STACKS.includes(stack), `no Pulumi.${stack}.yaml among ${STACKS.join(", ")}`);
  });

  // every committed stack: valid, but for secrets its operators set themselves (staging, production)
  for (const stack of STACKS) {
    it(`${stack} is valid, but for the secrets it leaves to its operators`, () => {
      assert.deepEqual(
        check(read(stack)).filter((p) => !/^pg-replication:\w+: is required: pulumi config set --secret \w+ <value>$/.test(p)),
        [],
      );
    });
  }

  for (const stack of ["staging", "production"]) {
    it(`${stack} lacks only the secrets its operators set`, () => {
      assert.deepEqual(check(read(stack)), [
        "pg-replication:adminPassword: is required: pulumi config set --secret adminPassword <value>",
        "pg-replication:replicationPassword: is required: pulumi config set --secret replicationPassword <value>",
        "pg-replication:previewPassword: is required: pulumi config set --secret previewPassword <value>",
      ]);
    });
  }

  it("leaves no secret unset in the sandbox's stacks", () => {
    for (const stack of ["dev", "sandbox-staging", "sandbox-production"]) assert.deepEqual(check(read(stack)), [], stack);
  });

  it("would catch a mistake in any key of a stack file, not only in clusters", () => {
    const dev = read("dev");
    const edited = (line: string) => dev.replace("config:\n", `config:\n${line}\n`);
    assert.deepEqual(check(edited('  pg-replication:protect: "yes"')), ["pg-replication:protect: must be true or false"]);
    assert.match(
      check(edited("  pg-replication:protec: true")).join("\n"),
      /^pg-replication:protec: is not a known key; did you mean "pg-replication:protect"\?/,
    );
    const migration = check(
      edited(
        "  pg-replication:migration:\n    source: {address: 10.77.0.10, database: appdb, user: m}\n    target: {cluster: main}\n    phase: cutovr",
      ),
    );
    assert.match(migration.join("\n"), /pg-replication:migration\.phase: must be one of sync, cutover, revert, complete \(got "cutovr"\)/);
    assert.match(migration.join("\n"), /pg-replication:sourcePassword: is required/);
  });
});
