import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as postgresql from "@pulumi/postgresql";
import { MigrationSpec } from "../config";
import type { CutoverReport } from "../migrate/cutover";
import type { RevertReport, WayBackNames } from "../migrate/wayBack";
import { migrationNames } from "../names";
import { Endpoint } from "../lib/endpoint";
import { MigrationState, readMigrationState, sourceEndpoint } from "../observe/migration";
import {
  SOURCE_PASSFILE,
  SourceAccess,
  renderSchemaCopyScript,
  renderSourcePassfile,
  renderSubscriptionScript,
} from "../render/migrationScripts";
import { passfileCommand, removeFileCommand } from "../render/sshCommands";
import { SshAccess, hostStep } from "./connection";

export interface MigrationArgs {
  spec: MigrationSpec;
  sourcePassword: pulumi.Input<string>;
  /** Tables the source publishes that the subscription lacks, seen at plan time: the subscription step reruns for them. */
  unsubscribed?: string[];
  /** The target cluster's leader: where the schema copy and the subscription run. */
  targetLeader: { name: string; ssh: SshAccess };
  /** The target database on that leader, as the cluster's admin role (PostgresCluster.adminEndpoint): for the status and the cutover. */
  target: pulumi.Input<Endpoint>;
  /** A preview through the preview identity: a pull request's machine, which tries neither login. */
  previewIdentity?: boolean;
}

/** The commands the local steps run, relative to the project (so they are the same on every machine). */
const NODE = "node -r ts-node/register/transpile-only";
export const CUTOVER_COMMAND = `${NODE} migrate/cutover.ts`;
export const REVERT_COMMAND = `${NODE} migrate/wayBack.ts revert`;
export const CLOSE_WAY_BACK_COMMAND = `${NODE} migrate/wayBack.ts close`;

/**
 * A database moved from an old server onto a cluster by logical replication, in the phase the
 * stack names. sync: the roles and schema copied, a publication on the source, a subscription on
 * the target's leader (created once, altered in place after). cutover: writes frozen on the
 * source, drained, sequences copied, every table verified, the subscription dropped
 * (migrate/cutover.ts); with a way back, the source follows the target from then on. revert:
 * the application moved back onto the source (migrate/wayBack.ts). complete: the program lets
 * go of the publication and closes the way back; the source stays read-only. Each phase's steps
 * run once: a rerun changes nothing.
 */
export class Migration extends pulumi.ComponentResource {
  readonly state: pulumi.Output<MigrationState>;
  readonly cutoverReport: pulumi.Output<CutoverReport | undefined>;
  readonly revertReport: pulumi.Output<RevertReport | undefined>;

  constructor(name: string, args: MigrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pg-replication:migration:Migration", name, {}, opts);
    const { spec } = args;
    const names = migrationNames(spec);
    const source: SourceAccess = { host: args.targetLeader.name, ...spec.source };
    const ssh = args.targetLeader.ssh;

    // the source's password on the target leader only while a step there needs it: complete and destroy remove it
    const done = spec.phase === "complete";
    const passfile = hostStep(
      `${name}-source-passfile`,
      ssh,
      done ? "" : pulumi.output(args.sourcePassword).apply((pw) => renderSourcePassfile(source, pw)),
      {
        run: done ? removeFileCommand(SOURCE_PASSFILE) : passfileCommand(SOURCE_PASSFILE),
        secretStdin: true,
        onDelete: removeFileCommand(SOURCE_PASSFILE),
      },
      { parent: this },
    );
    const schema = hostStep(
      `${name}-schema`,
      ssh,
      renderSchemaCopyScript(source, spec.target.database),
      {},
      { parent: this, dependsOn: [passfile] },
    );

    let subscription: command.remote.Command | undefined;
    if (spec.phase !== "complete") {
      const sourceProvider = new postgresql.Provider(
        `${name}-source`,
        {
          host: spec.source.address,
          port: spec.source.port,
          username: spec.source.user,
          password: pulumi.secret(args.sourcePassword),
          database: spec.source.database,
          sslmode: spec.source.sslmode,
          superuser: true,
          connectTimeout: 15,
        },
        { parent: this },
      );
      const publication = new postgresql.Publication(
        `${name}-publication`,
        {
          name: names.publication,
          database: spec.source.database,
          ...(spec.tables.length > 0 ? { tables: spec.tables } : { allTables: true }),
          publishParams: ["insert", "update", "delete", "truncate"],
        },
        // after the cutover the source is read-only: the publication stays there, an archive of what moved
        { parent: this, provider: sourceProvider, retainOnDelete: true },
      );
      if (spec.phase === "sync") {
        subscription = hostStep(
          `${name}-subscription`,
          ssh,
          renderSubscriptionScript({
            source,
            targetDatabase: spec.target.database,
            publication: names.publication,
            subscription: names.subscription,
            tables: spec.tables,
            unsubscribed: args.unsubscribed ?? [],
          }),
          {},
          { parent: this, dependsOn: [schema, publication], customTimeouts: { create: "1h", update: "1h" } },
        );
      }
    }

    const target = pulumi.output(args.target);
    const sourceAt = pulumi.output(args.sourcePassword).apply((pw) => sourceEndpoint(spec, pw));

    // where the source reaches the target for the way back: the same server the controller reaches
    const wayBackTo = (t: Endpoint): WayBackNames => ({
      subscription: names.wayBack,
      targetAddress: t.host,
      targetPort: t.port,
      targetSslmode: t.sslmode,
    });
    const localStep = (step: string, create: string, input: (s: Endpoint, t: Endpoint) => object, after: pulumi.Resource[]) =>
      new command.local.Command(
        `${name}-${step}`,
        {
          create,
          stdin: pulumi.secret(pulumi.all([sourceAt, target]).apply(([s, t]) => JSON.stringify({ source: s, target: t, ...input(s, t) }))),
          addPreviousOutputInEnv: false,
        },
        // one-shot: a cutover, a revert or a close that ran is never run again because an input
        // changed afterwards (a password rotated, the margin edited); one that failed runs again
        { parent: this, dependsOn: after, additionalSecretOutputs: ["stdin"], customTimeouts: { create: "30m" }, ignoreChanges: ["stdin"] },
      );
    const report = <T>(c: command.local.Command | undefined) =>
      c
        ? pulumi.unsecret(
            c.stdout.apply((out) => {
              const line = out.split("\n").find((l) => l.startsWith("REPORT "));
              return line ? (JSON.parse(line.slice("REPORT ".length)) as T) : undefined;
            }),
          )
        : pulumi.output(undefined);

    const cutover =
      spec.phase === "sync"
        ? undefined
        : localStep(
            "cutover",
            CUTOVER_COMMAND,
            (_, t) => ({
              subscription: names.subscription,
              publication: names.publication,
              sequenceMargin: spec.sequenceMargin,
              ...(spec.wayBack ? { wayBack: wayBackTo(t) } : {}),
              ...(spec.checksums === "after-switch" ? { checksumsAfterSwitch: true } : {}),
            }),
            [schema],
          );
    const revert =
      spec.phase === "revert" && cutover
        ? localStep("revert", REVERT_COMMAND, (_, t) => ({ wayBack: wayBackTo(t), sequenceMargin: spec.sequenceMargin }), [cutover])
        : undefined;
    const closed =
      spec.phase === "complete" && spec.wayBack && cutover
        ? localStep("close-way-back", CLOSE_WAY_BACK_COMMAND, (_, t) => ({ wayBack: wayBackTo(t), sequenceMargin: spec.sequenceMargin }), [
            cutover,
          ])
        : undefined;
    this.cutoverReport = report<CutoverReport>(cutover);
    this.revertReport = report<RevertReport>(revert);
    // the state is read once this phase's last step has run
    const settled = (revert ?? closed ?? cutover ?? subscription ?? schema).stdout;
    this.state = args.previewIdentity
      ? pulumi.output<MigrationState>({
          phase: spec.phase,
          tables: {},
          lagBytes: null,
          lagSeconds: null,
          error: "not read by the preview identity (it logs in neither to the source nor as the target's admin)",
        })
      : pulumi.unsecret(pulumi.all([sourceAt, target, settled]).apply(([s, t]) => readMigrationState(spec, s, t)));
    this.registerOutputs({ state: this.state, cutoverReport: this.cutoverReport, revertReport: this.revertReport });
  }
}
