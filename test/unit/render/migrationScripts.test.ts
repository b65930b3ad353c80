import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { renderSchemaCopyScript, renderSourcePassfile, renderSubscriptionScript, sourceConninfo } from "../../../render/migrationScripts";
import { assertGolden } from "../../support/golden";

const source = { host: "pg1", address: "10.77.0.10", port: 5432, database: "app'db", user: "migrator", sslmode: "require" };

describe("migration scripts", () => {
  it("render host/migration/*.sh with their headers, as the golden files show", () => {
    const plain = { ...source, database: "appdb" };
    const schema = renderSchemaCopyScript(plain, "appdb");
    const subscription = renderSubscriptionScript({
      source: plain,
      targetDatabase: "appdb",
      publication: "p",
      subscription: "s",
      tables: [],
    });
    execFileSync("bash", ["-n"], { input: schema });
    execFileSync("bash", ["-n"], { input: subscription });
    assertGolden("migration-schema-copy.sh", schema);
    assertGolden("migration-subscription.sh", subscription);
  });

  it("name the published tables, so that a table added during sync reruns the subscription step (which refreshes it)", () => {
    const render = (tables: string[]) =>
      renderSubscriptionScript({
        source: { ...source, database: "appdb" },
        targetDatabase: "appdb",
        publication: "p",
        subscription: "s",
        tables,
      });
    assert.notEqual(render(["public.a"]), render(["public.a", "public.b"]));
    assert.equal(render(["public.b", "public.a"]), render(["public.a", "public.b"]), "the order in config does not matter");
    assert.notEqual(render([]), render(["public.a"]));
  });

  it("rerun the subscription step for a published table the subscription lacked at plan time, naming it", () => {
    const render = (unsubscribed?: string[]) =>
      renderSubscriptionScript({
        source: { ...source, database: "appdb" },
        targetDatabase: "appdb",
        publication: "p",
        subscription: "s",
        tables: [],
        unsubscribed,
      });
    assert.equal(render([]), render(undefined), "nothing lacking: the script as before");
    assert.notEqual(render(["public.late"]), render([]));
    assert.match(render(["public.late", "public.also"]), /^unsubscribed='public\.also public\.late'$/m);
  });

  it("copy the schema's tables first, and their indexes and constraints after the rows, taken at one snapshot", () => {
    const schema = renderSchemaCopyScript({ ...source, database: "appdb" }, "appdb");
    assert.match(schema, /pg_dump" -w -d "\$src" --schema-only --section=pre-data /);
    const subscription = renderSubscriptionScript({ source, targetDatabase: "appdb", publication: "p", subscription: "s", tables: [] });
    // the slot's session exports the snapshot every dump of the source imports
    assert.match(subscription, /CREATE_REPLICATION_SLOT "%s" LOGICAL pgoutput EXPORT_SNAPSHOT/);
    assert.match(subscription, /--snapshot="\$snapshot" --data-only --strict-names -t "\$t"/);
    assert.match(subscription, /--snapshot="\$snapshot" --schema-only --section=post-data/);
    // the subscription takes over that slot without copying again
    assert.match(subscription, /WITH \(copy_data = false, create_slot = false, slot_name = :'sub'\)/);
    // the post-data in one transaction, the failure undone
    assert.match(subscription, /target_sql "\$db" --single-transaction -f "\$tmp\/post-data.sql"/);
    assert.match(subscription, /trap cleanup EXIT/);
  });

  it("keep the password in the passfile: the conninfo names the file and quotes every value", () => {
    const conninfo = sourceConninfo(source, "s");
    assert.match(conninfo, /dbname='app\\'db'/);
    assert.match(conninfo, /passfile='\/var\/lib\/postgresql\/\.pg-replication-source\.pgpass'/);
    assert.doesNotMatch(conninfo, /password/);
    assert.match(conninfo, /sslmode='require'/);
    assert.match(sourceConninfo({ ...source, sslmode: "verify-full" }, "s"), /sslmode='verify-full'/, "never weakened");
    assert.equal(renderSourcePassfile(source, "p:w\\d"), "10.77.0.10:5432:*:migrator:p\\:w\\\\d\n");
  });

  it("copy the memberships and settings of the roles they copy; what the source says is data, quoted on the target", () => {
    const script = renderSchemaCopyScript({ ...source, database: "appdb" }, "appdb");
    // the source answers one JSON document (roles, memberships, settings), read by the target as a literal
    assert.match(script, /json_build_object\(\s*'roles'/);
    assert.match(script, /'members', \(select/);
    assert.match(script, /'settings', \(select/);
    assert.match(script, /:'source'::json/);
    // every statement the target runs is made by the target's own format(), names %I, values %L or quote_literal
    assert.match(script, /format\('CREATE ROLE %I WITH/);
    assert.match(script, /format\('GRANT %I TO %I%s;'/);
    assert.match(script, /format\('ALTER ROLE %I SET %s;', x\.role, pg_temp\.setting\(x\.setting\)\)/);
    // and what the source sets for its database alone, for everyone and for a role in it
    assert.match(script, /'database', \(select/);
    assert.match(script, /format\('ALTER DATABASE %I SET %s;', :'db', pg_temp\.setting\(setting\)\)/);
    assert.match(script, /format\('ALTER ROLE %I IN DATABASE %I SET %s;', role, :'db', pg_temp\.setting\(setting\)\)/);
    assert.doesNotMatch(script, /rolname \|\| E'\\t'/, "no statement is built on the source");
    // roles, memberships and settings in one transaction: a failure keeps none of them
    assert.match(script, /target_sql postgres --single-transaction -v source_file=/);
  });
});
