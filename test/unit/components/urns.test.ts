// URN stability: a resource's URN is its type, its parents' types and its name. A change to any of
// them is, for a stack deployed already, a delete and a create: a host step run again, a role
// dropped, a subscription copying every table anew. These are the URNs deployed stacks hold; a
// refactoring keeps them, or maps them over with `aliases`.
import { strict as assert } from "node:assert";
import { urnRecorder, urnsTakenOver } from "../../support/urns";
import { value } from "../../support/mocks";
import { clusterArgs, migrationArgs } from "./scenarios";

// Imported after the mocks are set, so that every resource goes to them.
const { PostgresCluster } = require("../../../components/cluster") as typeof import("../../../components/cluster");
const { Migration } = require("../../../components/migration") as typeof import("../../../components/migration");

const urn = (types: string[], name: string) => `urn:pulumi:unit::pg-replication::${types.join("$")}::${name}`;
const CLUSTER = "pg-replication:cluster:PostgresCluster";
const HOST = "pg-replication:host:HostConfiguration";
const STANDBY = "pg-replication:standby:Standby";
const REMOTE = "command:remote:Command";
const LOCAL = "command:local:Command";
const MIGRATION = "pg-replication:migration:Migration";

const CLUSTER_URNS = [
  urn([CLUSTER], "main"),
  urn([CLUSTER, REMOTE], "main-lead"),
  urn([CLUSTER, REMOTE], "main-pg1-drop-slots"),
  ...["pg2", "pg3"].map((h) => urn([CLUSTER, REMOTE], `main-${h}-demote`)),
  ...["pg1", "pg2", "pg3"].flatMap((h) => [
    urn([CLUSTER, REMOTE], `main-${h}-settle`),
    urn([CLUSTER, HOST], `main-${h}`),
    urn([CLUSTER, HOST, REMOTE], `main-${h}-apply`),
    urn([CLUSTER, HOST, REMOTE], `main-${h}-passfile`),
  ]),
  urn([CLUSTER, "pg-replication:role:AdminRole"], "main-admin"),
  urn([CLUSTER, "pg-replication:role:AdminRole", REMOTE], "main-admin-bootstrap"),
  urn([CLUSTER, "pulumi:providers:postgresql"], "main-leader"),
  urn([CLUSTER, "pg-replication:role:ReplicationRole"], "main-replication"),
  urn([CLUSTER, "pg-replication:role:ReplicationRole", "postgresql:index/role:Role"], "main-replication"),
  ...["pg2", "pg3"].flatMap((h) => [urn([CLUSTER, STANDBY], `main-${h}`), urn([CLUSTER, STANDBY, REMOTE], `main-${h}-follow`)]),
].sort();

const MIGRATION_BASE = [
  urn([MIGRATION], "migration"),
  urn([MIGRATION, REMOTE], "migration-source-passfile"),
  urn([MIGRATION, REMOTE], "migration-schema"),
];
const PUBLICATION = [
  urn([MIGRATION, "pulumi:providers:postgresql"], "migration-source"),
  urn([MIGRATION, "postgresql:index/publication:Publication"], "migration-publication"),
];
const MIGRATION_URNS = {
  sync: [...MIGRATION_BASE, ...PUBLICATION, urn([MIGRATION, REMOTE], "migration-subscription")],
  cutover: [...MIGRATION_BASE, ...PUBLICATION, urn([MIGRATION, LOCAL], "migration-cutover")],
  revert: [...MIGRATION_BASE, ...PUBLICATION, urn([MIGRATION, LOCAL], "migration-cutover"), urn([MIGRATION, LOCAL], "migration-revert")],
  complete: [...MIGRATION_BASE, urn([MIGRATION, LOCAL], "migration-cutover"), urn([MIGRATION, LOCAL], "migration-close-way-back")],
} as const;

describe("URN stability", () => {
  it("keeps every URN of a three-host cluster's stack (or maps it over with an alias)", async () => {
    const r = urnRecorder();
    const cluster = new PostgresCluster("main", clusterArgs(), { transformations: [r.transformation] });
    await value(cluster.hostReports);
    assert.deepEqual(urnsTakenOver(r.seen, CLUSTER_URNS), CLUSTER_URNS);
  });

  for (const phase of ["sync", "cutover", "revert", "complete"] as const) {
    it(`keeps every URN of a migration in its ${phase} phase`, async () => {
      const r = urnRecorder();
      const migration = new Migration("migration", migrationArgs(phase), { transformations: [r.transformation] });
      await value(migration.state);
      assert.deepEqual(urnsTakenOver(r.seen, [...MIGRATION_URNS[phase]]), [...MIGRATION_URNS[phase]].sort());
    });
  }
});
