import { strict as assert } from "node:assert";
import { parseArchiver, parseInfo } from "../../../observe/backups";

const info = JSON.stringify([
  {
    name: "main",
    status: { code: 0, message: "ok" },
    backup: [
      {
        label: "20261202-100000F",
        type: "full",
        timestamp: { start: 1796205600, stop: 1796205660 },
        info: { size: 1000, repository: { size: 300 } },
      },
      {
        label: "20261202-100000F_20261202-110000D",
        type: "diff",
        timestamp: { start: 1796209200, stop: 1796209210 },
        info: { size: 1000, repository: { size: 20 } },
      },
    ],
    archive: [{ id: "15-1", min: "000000010000000000000003", max: "000000020000000000000009" }],
  },
]);

describe("the recovery window", () => {
  it("reads pgBackRest's info: backups, WAL range, earliest restorable moment", () => {
    const w = parseInfo(info, "main");
    assert.equal(w.status, "ok");
    assert.equal(w.backups.length, 2);
    assert.equal(w.backups[0].durationSeconds, 60);
    assert.equal(w.earliest, new Date(1796205660 * 1000).toISOString());
    assert.deepEqual(w.wal, { min: "000000010000000000000003", max: "000000020000000000000009" });
    assert.equal(parseInfo(info, "other").status, "no stanza other in the repository");
  });

  it("says archiving fails since the last success, with pgBackRest's reason", () => {
    const failing = parseArchiver(
      "000000010000000000000009|1796209200|00000001000000000000000A|1796209500",
      "103\nunable to find a valid repository:\nrepo1: [UnknownError] remote-0 process on '10.77.0.40' terminated unexpectedly",
    );
    assert.equal(failing.healthy, false);
    assert.equal(failing.failingSince, new Date(1796209200 * 1000).toISOString());
    assert.match(failing.reason!, /terminated unexpectedly/);
    const healthy = parseArchiver("00000001000000000000000A|1796209600|000000010000000000000009|1796209500", "");
    assert.equal(healthy.healthy, true);
    assert.equal(healthy.failingSince, undefined);
  });
});
