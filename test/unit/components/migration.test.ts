// The Migration component under mocks: which steps each phase has, and the options that make a
// phase safe to run again (one-shot local steps, a publication kept on delete).
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { MigrationPhase } from "../../../config";
import { isSecretValue, plain, registered, reset, value } from "../../support/mocks";
import { migrationArgs } from "./scenarios";

type MigrationArgs = import("../../../components/migration").MigrationArgs;
const { Migration } = require("../../../components/migration") as typeof import("../../../components/migration");

interface Built {
  /** The resources inside the component, by name. */
  names: string[];
  opts: Record<string, pulumi.CustomResourceOptions>;
  state: { phase: string; error?: string };
}

async function build(phase: MigrationPhase, wayBack = true, extra: Partial<MigrationArgs> = {}): Promise<Built> {
  reset();
  const opts: Record<string, pulumi.CustomResourceOptions> = {};
  const migration = new Migration(
    "migration",
    { ...migrationArgs(phase, wayBack), ...extra },
    {
      transformations: [
        (a) => {
          opts[a.name] = a.opts;
          return undefined;
        },
      ],
    },
  );
  const state = await value(migration.state);
  const steps = registered.filter((r) => r.type !== "pg-replication:migration:Migration");
  return { names: steps.map((r) => r.name).sort(), opts, state };
}

const input = (name: string) => registered.find((r) => r.name === name)!.inputs;

describe("Migration", () => {
  it("sync: the source's passfile, the schema, a publication kept on delete, the subscription", async () => {
    const b = await build("sync");
    assert.deepEqual(b.names, [
      "migration-publication",
      "migration-schema",
      "migration-source",
      "migration-source-passfile",
      "migration-subscription",
    ]);
    assert.equal(b.opts["migration-publication"].retainOnDelete, true, "the source keeps the publication: an archive of what moved");
    assert.deepEqual(input("migration-publication").allTables, true, "no tables listed: every table of the database");
    assert.ok(isSecretValue(input("migration-source-passfile").stdin), "the source's password goes on stdin, as a secret");
    assert.match(plain(input("migration-subscription").stdin), /pgr_appdb_sub/);
  });

  it("sync reads the state once the subscription step has run, and reports what it could not read", async () => {
    const b = await build("sync");
    assert.equal(b.state.phase, "sync");
    assert.match(String(b.state.error), /ECONNREFUSED/);
  });

  it("a preview through the preview identity reads no state: it holds neither the source's login nor the target admin's certificate", async () => {
    const b = await build("sync", true, { previewIdentity: true });
    assert.equal(b.state.phase, "sync");
    assert.equal(b.state.error, "not read by the preview identity (it logs in neither to the source nor as the target's admin)");
  });

  it("cutover: the subscription step is gone, a one-shot cutover step runs from the controller", async () => {
    const b = await build("cutover");
    assert.deepEqual(b.names, [
      "migration-cutover",
      "migration-publication",
      "migration-schema",
      "migration-source",
      "migration-source-passfile",
    ]);
    const cutover = b.opts["migration-cutover"];
    assert.deepEqual(cutover.ignoreChanges, ["stdin"], "a cutover that ran is never run again because an input changed");
    assert.deepEqual(cutover.additionalSecretOutputs, ["stdin"]);
    const stdin = JSON.parse(plain(input("migration-cutover").stdin)) as Record<string, unknown>;
    assert.equal(stdin.subscription, "pgr_appdb_sub");
    assert.equal(stdin.sequenceMargin, 1000);
    assert.deepEqual(stdin.wayBack, {
      subscription: "pgr_appdb_back",
      targetAddress: "127.0.0.1",
      targetPort: 1,
      targetSslmode: "require",
    });
    assert.equal((stdin.source as { password: string }).password, "source-pw");
  });

  it("revert: the cutover stays, the revert runs after it", async () => {
    const b = await build("revert");
    assert.deepEqual(b.names, [
      "migration-cutover",
      "migration-publication",
      "migration-revert",
      "migration-schema",
      "migration-source",
      "migration-source-passfile",
    ]);
    assert.deepEqual(b.opts["migration-revert"].ignoreChanges, ["stdin"]);
    assert.ok((b.opts["migration-revert"].dependsOn as pulumi.Resource[]).length === 1);
  });

  it("complete: the publication is let go (kept on the source), the way back closed", async () => {
    const b = await build("complete");
    assert.deepEqual(b.names, ["migration-close-way-back", "migration-cutover", "migration-schema", "migration-source-passfile"]);
  });

  it("complete without a way back: nothing to close", async () => {
    const b = await build("complete", false);
    assert.deepEqual(b.names, ["migration-cutover", "migration-schema", "migration-source-passfile"]);
  });
});
