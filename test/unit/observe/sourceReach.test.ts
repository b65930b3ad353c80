import { strict as assert } from "node:assert";
import { MigrationSpec } from "../../../config";
import { reachProblem, renderReachScript } from "../../../observe/sourceReach";

const m = {
  source: { address: "10.77.0.10", port: 5432, database: "appdb", user: "migrator", sslmode: "require" },
} as MigrationSpec;
const leader = { name: "pg1", address: "10.77.0.11", sshPort: 22, rebuild: "", down: false };

describe("the preflight from the target's leader", () => {
  it("names the key to look at for each way the source can refuse", () => {
    assert.equal(reachProblem(m, leader, "ok\n"), undefined);
    assert.match(
      reachProblem(
        m,
        leader,
        'psql: error: connection to server at "10.77.0.10", port 5432 failed: FATAL:  no pg_hba.conf entry for host "10.77.0.11"',
      )!,
      /^pg-replication:migration\.source: the source's pg_hba does not admit the target leader pg1 \(10\.77\.0\.11\)/,
    );
    assert.match(
      reachProblem(m, leader, 'FATAL:  password authentication failed for user "migrator"\npassword retrieved from file "/tmp/x"')!,
      /^pg-replication:sourcePassword: the source refused it/,
    );
    assert.match(reachProblem(m, leader, "")!, /cannot reach 10\.77\.0\.10:5432: no answer/);
  });

  it("keeps the password out of the script: it comes on stdin, into a passfile that lives for the check", () => {
    const script = renderReachScript({ host: "pg1", ...m.source });
    assert.match(script, /cat > "\$tmp\/pgpass"/);
    assert.match(script, /trap 'rm -rf "\$tmp"' EXIT/);
    assert.doesNotMatch(script, /password=/);
  });
});
