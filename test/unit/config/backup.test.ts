import { strict as assert } from "node:assert";
import { ConfigError, parseStackConfig } from "../../../config";
import { rawCluster } from "../fixtures";

const present = { adminPassword: true, replicationPassword: true };
const secrets = new Set(["adminPassword", "replicationPassword"]);
const withBackup = (backup: unknown, extra: Record<string, unknown> = {}) => [{ ...rawCluster(), backup, ...extra }];

function problems(clusters: unknown): string[] {
  try {
    parseStackConfig({ clusters }, present, secrets);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  return [];
}

describe("clusters[].backup", () => {
  it("fills a small team's defaults around the repository host", () => {
    const c = parseStackConfig({ clusters: withBackup({ repository: { host: "backup", address: "10.77.0.40" } }) }, present, secrets)
      .clusters[0];
    assert.deepEqual(c.backup, {
      stanza: c.name,
      repository: { name: "backup", address: "10.77.0.40", sshPort: 22, user: "postgres", path: "/var/lib/pgbackrest" },
      readers: [],
      retention: { full: 2, diff: 6 },
      schedule: { full: "Sun *-*-* 01:00:00", diff: "Mon..Sat *-*-* 01:00:00" },
      compression: "lz4",
      processMax: 2,
      walQueueMax: "4GB",
      fromStandby: true,
      standbyRebuild: "copy",
    });
  });

  it("rebuilds standbys from the backups with --delta when asked, and names any other value", () => {
    const b = parseStackConfig(
      { clusters: withBackup({ repository: { host: "backup", address: "10.77.0.40" }, standbyRebuild: "delta" }) },
      present,
      secrets,
    ).clusters[0].backup;
    assert.equal(b?.standbyRebuild, "delta");
    assert.deepEqual(problems(withBackup({ repository: { host: "backup", address: "10.77.0.40" }, standbyRebuild: "rsync" })), [
      'pg-replication:clusters[0].backup.standbyRebuild: must be copy (pg_basebackup from the leader) or delta (pgbackrest restore --delta from the backups), got "rsync"',
    ]);
  });

  it("takes a stanza name of its own and the stacks that may read its repository", () => {
    const b = parseStackConfig(
      {
        clusters: withBackup({
          repository: { host: "backup", address: "10.77.0.40" },
          stanza: "production-main",
          readers: [{ name: "staging", publicKeyPath: "/etc/keys/staging.pub" }],
        }),
      },
      present,
      secrets,
    ).clusters[0].backup;
    assert.equal(b?.stanza, "production-main");
    assert.deepEqual(b?.readers, [{ name: "staging", publicKeyPath: "/etc/keys/staging.pub" }]);
  });

  it("names each bad key", () => {
    const found = problems(
      withBackup({
        repository: { host: "backup", address: "10.77.0.40", path: "relative/dir" },
        retention: { full: 0 },
        schedule: { full: "Sun; rm -rf /" },
        compression: "xz",
        walQueueMax: "4 gigabytes",
        retension: {},
        stanza: "main; rm",
        readers: [
          { name: "Staging!", publicKeyPath: "keys/reader.pub" },
          { name: "ok", publicKeyPath: "/k.pub", extra: 1 },
        ],
      }),
    );
    for (const key of [
      "repository.path",
      "retention.full",
      "schedule.full",
      "compression",
      "walQueueMax",
      "retension",
      "stanza",
      "readers[0].name",
      "readers[0].publicKeyPath",
      "readers[1].extra",
    ])
      assert.ok(
        found.some((p) => p.startsWith(`pg-replication:clusters[0].backup.${key}:`)),
        `no problem under backup.${key}: ${found.join("\n")}`,
      );
  });

  it("refuses a member as the repository, archive settings of its own, and unpinned host keys", () => {
    assert.ok(
      problems(withBackup({ repository: { host: "pg2", address: "10.77.0.12" } }))[0].includes(
        "backup.repository: must be a host of its own",
      ),
    );
    const found = problems(
      withBackup({ repository: { host: "backup", address: "10.77.0.40" } }, { settings: { archive_command: "/bin/true" } }),
    );
    assert.ok(found[0].startsWith("pg-replication:clusters[0].settings.archive_command: is set by backup"), found.join("\n"));
    const insecure = problems([
      {
        ...rawCluster(),
        backup: { repository: { host: "backup", address: "10.77.0.40" } },
        ssh: { user: "deploy", insecureSkipHostKeyCheck: true },
      },
    ]);
    assert.ok(
      insecure.some((p) => p.includes("backup: needs pinned host keys")),
      insecure.join("\n"),
    );
  });
});
