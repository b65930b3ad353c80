// The committed stack files are valid: the sandbox stack completely, staging and production
// but for the secrets each environment sets itself.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { ConfigError, NAMESPACE, SECRET_KEYS, parseStackConfig } from "../../config";

const ROOT = path.resolve(__dirname, "../..");

function check(stack: string): string[] {
  const doc = load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const config = doc.config;
  const present = Object.fromEntries(SECRET_KEYS.map((k) => [k, `${NAMESPACE}:${k}` in config]));
  const secret = new Set(
    SECRET_KEYS.filter((k) => {
      const v = config[`${NAMESPACE}:${k}`];
      return typeof v === "object" && v !== null && "secure" in v;
    }),
  );
  try {
    parseStackConfig({ clusters: config[`${NAMESPACE}:clusters`] }, present, secret);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe("committed stacks", () => {
  it("dev is valid, with its passwords as secrets", () => {
    assert.deepEqual(check("dev"), []);
  });

  for (const stack of ["staging", "production"]) {
    it(`${stack} lacks only the secrets its operators set`, () => {
      assert.deepEqual(check(stack), [
        "pg-replication:adminPassword: is required: pulumi config set --secret adminPassword <value>",
        "pg-replication:replicationPassword: is required: pulumi config set --secret replicationPassword <value>",
        "pg-replication:previewPassword: is required: pulumi config set --secret previewPassword <value>",
      ]);
    });
  }
});
