import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { renderSchemaCopyScript, renderSourcePassfile, renderSubscriptionScript, sourceConninfo } from "../../../render/migrationScripts";
import { assertGolden } from "../../support/golden";

const source = { host: "pg1", address: "10.77.0.10", port: 5432, database: "app'db", user: "migrator", sslmode: "require" };

describe("migration scripts", () => {
  it("render host/migration/*.sh with their headers, as the golden files show", () => {
    const plain = { ...source, database: "appdb" };
    const schema = renderSchemaCopyScript(plain, "appdb");
    const subscription = renderSubscriptionScript({ source: plain, targetDatabase: "appdb", publication: "p", subscription: "s" });
    execFileSync("bash", ["-n"], { input: schema });
    execFileSync("bash", ["-n"], { input: subscription });
    assertGolden("migration-schema-copy.sh", schema);
    assertGolden("migration-subscription.sh", subscription);
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
});
