import { strict as assert } from "node:assert";
import { ADMIN_ROLE, NAME_PREFIX, REPLICATION_ROLE, WAY_BACK_ROLE, migrationNames, slotName } from "../../names";

// a word PostgreSQL takes unquoted, in SQL, a conf file and a conninfo alike
const PLAIN = /^[a-z_][a-z0-9_]{0,62}$/;

describe("names", () => {
  it("gives the program's roles plain names, its own under the pgr_ prefix", () => {
    for (const role of [ADMIN_ROLE, REPLICATION_ROLE, WAY_BACK_ROLE]) assert.match(role, PLAIN);
    assert.ok(ADMIN_ROLE.startsWith(NAME_PREFIX) && WAY_BACK_ROLE.startsWith(NAME_PREFIX));
    assert.deepEqual(
      [ADMIN_ROLE, REPLICATION_ROLE, WAY_BACK_ROLE],
      ["pgr_admin", "replicator", "pgr_wayback"],
      "renaming one orphans the live role",
    );
  });

  it("names a member's slot after the host, dashes made underscores", () => {
    assert.equal(slotName("pg-2"), "pgr_pg_2");
    assert.match(slotName("db-eu-west-1a"), PLAIN);
  });

  it("names a migration's objects after the source database, as plain words short enough for PostgreSQL", () => {
    assert.deepEqual(migrationNames({ source: { database: "appdb" } }), {
      publication: "pgr_appdb_pub",
      subscription: "pgr_appdb_sub",
      wayBack: "pgr_appdb_back",
    });
    const odd = migrationNames({ source: { database: `Shop-DB ${"x".repeat(80)}` } });
    for (const n of Object.values(odd)) assert.match(n, PLAIN);
  });
});
