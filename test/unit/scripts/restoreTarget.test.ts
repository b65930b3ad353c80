import { strict as assert } from "node:assert";
import { parseRestoreTarget } from "../../../scripts/restoreTarget";
import { renderScratchRestoreScript } from "../../../render/restore";

describe("a restore's target", () => {
  it("takes a time with its zone, an xid or an LSN, exactly one", () => {
    assert.equal(parseRestoreTarget({ at: "2026-12-02 10:15:00+00" }).value, "2026-12-02 10:15:00.000+00");
    assert.equal(parseRestoreTarget({ at: "2026-12-02T11:15:00+01:00" }).value, "2026-12-02 10:15:00.000+00");
    assert.deepEqual(parseRestoreTarget({ xid: "745" }), { type: "xid", value: "745" });
    assert.throws(() => parseRestoreTarget({ at: "2026-12-02 10:15:00" }), /time zone/);
    assert.throws(() => parseRestoreTarget({ at: "yesterday+00" }), /not a time/);
    assert.throws(() => parseRestoreTarget({ xid: "1; drop" }), /XID/);
    assert.throws(() => parseRestoreTarget({}), /exactly one/);
    assert.throws(() => parseRestoreTarget({ at: "2026-12-02 10:15:00+00", xid: "1" }), /exactly one/);
  });

  it("refuses a table name that is not a plain identifier before any script exists", () => {
    const base = {
      stanza: "main",
      backupUser: "postgres",
      repoPath: "/var/lib/pgbackrest",
      database: "appdb",
      schema: "public",
      targetType: "time" as const,
      target: "x",
      restoredSchema: "restored_1",
    };
    assert.throws(() => renderScratchRestoreScript({ ...base, table: 'orders"; drop' }), /plain identifier/);
    const script = renderScratchRestoreScript({ ...base, table: "orders", where: "id = 42 and note = 'it''s'" });
    assert.ok(script.split("\n").includes(`where="id = 42 and note = 'it''s'"`), script.slice(0, 400));
  });
});
