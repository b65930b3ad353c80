import { strict as assert } from "node:assert";
import { renderApplicationConnections } from "../../../render/applicationConnections";
import { formatApplicationConnections, formatReplicationState } from "../../../scripts/statusTable";
import { clusterSpec } from "../fixtures";

describe("make status", () => {
  it("prints each client's read-write and read-only strings under the replication table", () => {
    const text =
      formatReplicationState({ main: { leader: "pg1", leaderInRecovery: false, standbys: {} } }) +
      formatApplicationConnections({ main: renderApplicationConnections(clusterSpec()) });
    const lines = text.split("\n");
    const heading = lines.findIndex((l) => l.startsWith("application connections"));
    assert.ok(heading > lines.findIndex((l) => l.startsWith("main ")), text);
    assert.equal(lines[heading + 1], 'main: database "appdb", user "app"');
    assert.match(
      lines[heading + 2],
      /^ {2}read-write {2}host='10\.77\.0\.11,10\.77\.0\.12,10\.77\.0\.13' .*target_session_attrs='read-write'$/,
    );
    assert.match(lines[heading + 3], /^ {2}read-only {3}host=.*target_session_attrs='prefer-standby'$/);
    assert.match(text, /pulumi stack output applicationConnections --json\n$/);
  });

  it("says so when the stack has no such output yet, or no clients", () => {
    assert.match(formatApplicationConnections(undefined), /none yet \(the stack's last up predates them/);
    assert.match(formatApplicationConnections({ main: {} }), /none: no cluster lists clients/);
  });
});
