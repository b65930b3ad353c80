import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PG_BIN } from "../../../postgres15";
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

  it("runs under a plain POSIX sh (the login shell may be dash): no bash-only expansion", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-reach-"));
    try {
      // a psql that shows what it was given (the conninfo, the passfile's text), then fails: the script prints it
      const psql = path.join(dir, "psql");
      fs.writeFileSync(
        psql,
        '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = -d ] && echo "conninfo: $2"; shift; done\necho "passfile: $(cat "$PGPASSFILE")"\nexit 2\n',
        {
          mode: 0o755,
        },
      );
      const script = renderReachScript({ host: "pg1", ...m.source })
        .split(`${PG_BIN}/psql`)
        .join(psql);
      for (const shell of ["sh", "dash"].filter((s) =>
        execFileSync("sh", ["-c", `command -v ${s} || true`])
          .toString()
          .trim(),
      )) {
        const out = execFileSync(shell, ["-c", script], { input: "10.77.0.10:5432:*:migrator:pw\n" }).toString();
        assert.match(out, /^conninfo: host='10\.77\.0\.10' port='5432' dbname='appdb' user='migrator' sslmode='require'/m, shell);
        assert.doesNotMatch(out, /passfile=/, `${shell}: the passfile comes through PGPASSFILE, not the conninfo`);
        assert.match(out, /^passfile: 10\.77\.0\.10:5432:\*:migrator:pw$/m, shell);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
