import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { renderSchemaCopyScript, renderSourcePassfile, renderSubscriptionScript, sourceConninfo } from "../../../render/migrationScripts";

const source = { host: "pg1", address: "10.77.0.10", port: 5432, database: "app'db", user: "migrator", sslmode: "require" };

describe("migration scripts", () => {
  it("are valid bash", () => {
    execFileSync("bash", ["-n"], { input: renderSchemaCopyScript(source, "appdb") });
    execFileSync("bash", ["-n"], {
      input: renderSubscriptionScript({ source, targetDatabase: "appdb", publication: "p", subscription: "s" }),
    });
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

  it("alter an existing subscription in place and refuse a new one over rows", () => {
    const script = renderSubscriptionScript({ source, targetDatabase: "appdb", publication: "p", subscription: "s" });
    assert.match(script, /ALTER SUBSCRIPTION "s" CONNECTION/);
    assert.doesNotMatch(script, /DROP SUBSCRIPTION/);
    assert.ok(script.indexOf("already hold rows") < script.indexOf("CREATE SUBSCRIPTION"));
  });

  it("copy the schema only into a database without tables", () => {
    const script = renderSchemaCopyScript(source, "appdb");
    assert.ok(script.indexOf("schema left as it is") < script.indexOf("pg_dump"));
    assert.match(script, /--no-publications --no-subscriptions/);
  });
});
