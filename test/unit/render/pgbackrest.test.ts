import { strict as assert } from "node:assert";
import { BackupSpec } from "../../../config";
import { renderMemberConf, renderRepositoryConf, archiveSettings } from "../../../render/pgbackrest";
import { renderPostgresqlConf } from "../../../render/postgresqlConf";
import { authorizedFrom } from "../../../render/backupScripts";
import { clusterSpec } from "../fixtures";

const backup: BackupSpec = {
  stanza: "main",
  repository: { name: "backup", address: "10.77.0.40", sshPort: 22, user: "postgres", path: "/var/lib/pgbackrest" },
  readers: [],
  retention: { full: 2, diff: 6 },
  schedule: { full: "Sun *-*-* 01:00:00", diff: "Mon..Sat *-*-* 01:00:00" },
  compression: "lz4",
  processMax: 2,
  walQueueMax: "4GB",
  fromStandby: true,
  standbyRebuild: "copy",
};
const cluster = { ...clusterSpec(), backup };

describe("pgBackRest's configuration", () => {
  it("archives asynchronously from every member with a bound on the queue", () => {
    const conf = renderMemberConf(cluster);
    for (const line of [
      "[main]",
      "archive-async=y",
      "archive-push-queue-max=4GB",
      "repo1-host=10.77.0.40",
      "repo1-host-user=postgres",
      "pg1-path=/var/lib/postgresql/15/main",
    ])
      assert.ok(conf.split("\n").includes(line), `missing ${line}:\n${conf}`);
    const pg = renderPostgresqlConf(cluster);
    assert.match(pg, /^archive_mode = on$/m);
    assert.match(pg, /^archive_command = 'pgbackrest --stanza=main archive-push %p'$/m);
    assert.doesNotMatch(renderPostgresqlConf(clusterSpec()), /archive_/);
    // a stanza named in config, not the cluster's name, everywhere pgBackRest is told the stanza
    const named = { ...cluster, backup: { ...backup, stanza: "production-main" } };
    assert.match(renderPostgresqlConf(named), /^archive_command = 'pgbackrest --stanza=production-main archive-push %p'$/m);
    assert.match(renderMemberConf(named), /^\[production-main\]$/m);
    // a standby never reads the archive: it could follow a timeline that is not its leader's
    assert.equal(archiveSettings("main").restore_command, undefined);
  });

  it("lists the leader first on the repository host and backs up from a standby only when there is one", () => {
    const conf = renderRepositoryConf(cluster, cluster.hosts, "pg2");
    assert.ok(conf.includes("pg1-host=10.77.0.12\n"), conf);
    assert.ok(conf.includes("backup-standby=y\n"));
    assert.ok(conf.includes("repo1-retention-full=2\n"));
    assert.ok(renderRepositoryConf(cluster, [cluster.hosts[0]], "pg1").includes("backup-standby=n\n"));
  });

  it("allows a peer's key from its address only, and refuses anything but one key line", () => {
    assert.equal(
      authorizedFrom("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB pgbackrest@pg1\n", "10.77.0.11"),
      'restrict,from="10.77.0.11" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB pgbackrest@pg1',
    );
    assert.throws(() => authorizedFrom("no key here", "10.77.0.11"), /no public key line/);
    assert.throws(() => authorizedFrom('ssh-ed25519 AAAA x" command="sh', "10.77.0.11"));
  });
});
