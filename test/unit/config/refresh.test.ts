import { strict as assert } from "node:assert";
import { ConfigError, parseStackConfig } from "../../../config";
import { productionProblems } from "../../../config/production";
import { rawCluster } from "../fixtures";

const present = { adminPassword: true, replicationPassword: true };
const secrets = new Set(["adminPassword", "replicationPassword"]);
const withRefresh = (refresh: unknown) => [{ ...rawCluster(), refresh }];
const parse = (refresh: unknown) => parseStackConfig({ clusters: withRefresh(refresh) }, present, secrets).clusters[0];

function problems(refresh: unknown): string[] {
  try {
    parse(refresh);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  return [];
}

describe("clusters[].refresh", () => {
  it("reads the source stack, the key and the masking rules, a table's schema public by default", () => {
    const c = parse({
      from: "production",
      keyPath: "/etc/pg-replication/refresh_ed25519",
      masking: [
        { database: "appdb", table: "people", columns: { email: "email", full_name: "name", note: { constant: "n/a" } } },
        { database: "appdb", table: "billing.cards", columns: { number: "null" } },
      ],
    });
    assert.deepEqual(c.refresh, {
      from: "production",
      cluster: c.name,
      keyPath: "/etc/pg-replication/refresh_ed25519",
      masking: [
        { database: "appdb", schema: "public", table: "people", columns: { email: "email", full_name: "name", note: { constant: "n/a" } } },
        { database: "appdb", schema: "billing", table: "cards", columns: { number: "null" } },
      ],
    });
  });

  it("names each bad key", () => {
    const found = problems({
      from: "prod; rm",
      keyPath: "relative/key",
      masking: [
        { database: "appdb", table: "a.b.c", columns: { email: "scramble" } },
        { database: "appdb", table: "people", columns: {} },
        { database: "appdb", table: "public.people", columns: { x: "null" }, colums: {} },
      ],
      mask: [],
    });
    for (const key of [
      "from",
      "keyPath",
      "masking[0].table",
      "masking[0].columns.email",
      "masking[1].columns",
      "masking[2].colums",
      "masking[2].table",
      "mask",
    ])
      assert.ok(
        found.some((p) => p.startsWith(`pg-replication:clusters[0].refresh.${key}:`)),
        `no problem under refresh.${key}: ${found.join("\n")}`,
      );
  });

  it("is refused on a production stack, and only there", () => {
    const c = parse({ from: "production", keyPath: "/k", masking: [] });
    assert.deepEqual(productionProblems(c, 0, "staging"), []);
    assert.match(productionProblems(c, 0, "production").join("\n"), /clusters\[0\]\.refresh: is refused on a production stack/);
  });
});
