// make restore-cluster STACK=dev CONFIRM=<cluster> [AT='…+00' | XID=… | LSN=…] [CLUSTER=name]: the
// disaster-recovery path. The cluster's leader is restored in place (delta) from the cluster's own
// backups, to the latest point or to a moment (just before a transaction or an LSN), with only the
// admin's lines open until it is done; its standbys are then copied from it by `pulumi up`. What
// the cluster wrote after that moment is gone from it (its backups keep it): CONFIRM must name the
// cluster.
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { readBackupState } from "../observe/backups";
import { accessSpec, archiveNow, leaderHost, readBackupAccess } from "./backupAccess";
import { Refused, ownRoles, readClusterConfig, replaceClusterData } from "./clusterData";
import { parseRestoreTarget } from "./restoreTarget";

const ROOT = process.env.PGR_PROJECT_DIR ?? path.resolve(__dirname, "..");
const env = (k: string) => process.env[k]?.trim() || undefined;

async function main(stackName: string): Promise<void> {
  const given = env("AT") || env("XID") || env("LSN");
  const target = given ? parseRestoreTarget({ at: env("AT"), xid: env("XID"), lsn: env("LSN") }) : undefined;
  const stack = await LocalWorkspace.selectStack({ stackName, workDir: ROOT });
  const { spec, secrets } = await readClusterConfig(stack, (c) => !!c.backup, "backups (clusters[].backup)", env("CLUSTER"));
  if (env("CONFIRM") !== spec.name)
    throw new Refused(
      `this replaces every database of cluster ${spec.name} on ${stackName} with its backup${target ? ` at ${target.value}` : ""}: say so with CONFIRM=${spec.name}`,
    );
  const access = readBackupAccess(stackName, spec.name);
  const state = await readBackupState(accessSpec(access), leaderHost(access));
  if (!state.earliest) throw new Refused(`stanza ${access.stanza} has no backup yet (${state.status}): run make backup first`);
  if (target?.ms !== undefined && (target.ms < Date.parse(state.earliest) || target.ms > Date.now()))
    throw new Refused(`AT ${target.value} is outside the recovery window: from ${state.earliest} to now`);
  // what the leader wrote last reaches the repository first, when the leader still answers
  await archiveNow(accessSpec(access), leaderHost(access)).catch((e: Error) =>
    process.stdout.write(
      `restore-cluster: the leader's last WAL could not be archived (${e.message}): restoring from what the repository holds\n`,
    ),
  );
  await replaceClusterData(stack, spec, {
    times: [],
    source: { stanza: access.stanza },
    target: target ? { type: target.type, value: target.value } : { type: "default" },
    roles: { ...ownRoles(spec, secrets), othersLoseLogin: false },
    masking: [],
    maskingKey: "",
    describe: `restored from its own backups (${target ? `${target.type} ${target.value}` : "its latest point"})`,
  });
}

main(process.argv[2] ?? "dev").catch((e) => {
  console.error(`restore-cluster: ${e instanceof Refused ? "refused: " : ""}${(e as Error).message}`);
  process.exitCode = 1;
});
