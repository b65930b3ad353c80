import { strict as assert } from "node:assert";
import { formatRecoveryWindow } from "../../../scripts/backupTable";
import { BackupState } from "../../../observe/backups";

const state: BackupState = {
  stanza: "main",
  repository: "backup (10.77.0.40:/var/lib/pgbackrest)",
  status: "ok",
  backups: [
    {
      label: "20261202-100000F",
      type: "full",
      start: "2026-12-02T10:00:00.000Z",
      stop: "2026-12-02T10:01:00.000Z",
      durationSeconds: 60,
      sizeBytes: 64 * 1048576,
      repositoryBytes: 10 * 1048576,
    },
  ],
  wal: { min: "000000010000000000000003", max: "000000010000000000000009" },
  earliest: "2026-12-02T10:01:00.000Z",
  latest: "2026-12-02T11:00:00.000Z",
  archiving: { healthy: true, lastArchivedWal: "000000010000000000000009", lastArchived: "2026-12-02T11:00:00.000Z" },
};

describe("make status's recovery window", () => {
  it("shows the window, the WAL range and the last backups", () => {
    const text = formatRecoveryWindow("main", state, "now");
    assert.match(text, /can restore to any moment from 2026-12-02T10:01:00.000Z to 2026-12-02T11:00:00.000Z/);
    assert.match(text, /archiving: working, last segment 000000010000000000000009/);
    assert.match(text, /full {2}20261202-100000F +2026-12-02T10:01:00.000Z +60 s +64\.0 MiB {2}\(10\.0 MiB stored\)/);
  });

  it("says archiving fails, since when and why, and that no backup exists yet", () => {
    const failing = formatRecoveryWindow(
      "main",
      {
        ...state,
        backups: [],
        earliest: undefined,
        archiving: { healthy: false, failingSince: "2026-12-02T11:00:00.000Z", reason: "repo1: unable to connect" },
      },
      "at the last up",
    );
    assert.match(failing, /archiving: FAILING since 2026-12-02T11:00:00.000Z: repo1: unable to connect/);
    assert.match(failing, /no backup yet: make backup/);
    assert.match(failing, /read at the last up/);
  });
});
