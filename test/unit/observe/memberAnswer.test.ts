import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { memberAnswer, renderMemberAskScript } from "../../../observe/memberAnswer";
import { PG_BIN } from "../../../postgres15";
import { clusterSpec } from "../fixtures";

const c = clusterSpec({ leader: "pg2" });
const down = { name: "pg1", address: "10.77.0.11", sshPort: 22, down: true, fenced: true };

describe("asking a down host from a member", () => {
  it("connects the way a standby of it would: the replication role, its passfile, the cluster's sslmode", () => {
    const script = renderMemberAskScript(c, down);
    assert.match(script, /^cd \/ && sudo -n -u postgres timeout 10 \/usr\/lib\/postgresql\/15\/bin\/psql -X -A -t -q -w -d "/);
    assert.match(script, /host='10\.77\.0\.11' port='5432' user='replicator' passfile='[^']+\.pgpass' sslmode='require'/);
    assert.match(script, /dbname='replication' replication='true'/);
    assert.match(script, / -c 'SHOW in_hot_standby' 2>&1$/);
    assert.doesNotMatch(script, /password=/);
  });

  it("reads in_hot_standby off as a primary, on as a standby, a server's message as a refused login, anything else as silence", () => {
    assert.equal(memberAnswer("off\n"), "primary");
    assert.equal(memberAnswer("on\n"), "standby");
    assert.equal(
      memberAnswer(
        'psql: error: connection to server at "10.77.0.11", port 5432 failed: FATAL:  no pg_hba.conf entry for replication connection',
      ),
      "not logged in",
    );
    assert.equal(memberAnswer('psql: error: connection to server at "10.77.0.11", port 5432 failed: timeout expired\n'), "no answer");
    assert.equal(memberAnswer(""), "no answer");
  });

  it("is a conninfo the real psql accepts, run by a plain POSIX sh: a closed port is silence", () => {
    // the member's sudo left out; the real psql against a port nothing listens on
    const script = renderMemberAskScript(clusterSpec({ port: 1 }), { ...down, address: "127.0.0.1" }).replace("sudo -n -u postgres ", "");
    assert.ok(script.includes(`${PG_BIN}/psql`));
    for (const shell of ["sh", "dash"].filter((s) =>
      execFileSync("sh", ["-c", `command -v ${s} || true`])
        .toString()
        .trim(),
    )) {
      const out = spawnSync(shell, ["-c", script], { encoding: "utf8" }).stdout;
      assert.match(out, /127\.0\.0\.1.*port 1 failed: Connection refused/, shell);
      assert.equal(memberAnswer(out), "no answer", shell);
    }
  });
});
