import { strict as assert } from "node:assert";
import { md5Problem } from "../../../observe/migration";

describe("the migration's preflight", () => {
  it("names the source's login roles with an md5 password, and the fix, before a cutover they could not log in after", () => {
    assert.equal(md5Problem([]), undefined);
    assert.equal(
      md5Problem(["app"]),
      "pg-replication:migration.source: role app has an md5 password on the source, which the target's pg_hba (scram-sha-256) would refuse after the cutover: set password_encryption = scram-sha-256 and reset that role's password on the source",
    );
    assert.equal(
      md5Problem(["app", "Report user"]),
      "pg-replication:migration.source: roles app, \"Report user\" have md5 passwords on the source, which the target's pg_hba (scram-sha-256) would refuse after the cutover: set password_encryption = scram-sha-256 and reset each role's password on the source",
    );
  });
});
