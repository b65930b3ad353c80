// make backup STACK=dev [TYPE=full|diff] [CLUSTER=name]: a backup now, with the scheduled unit's command.
import { readBackupState, sshRun } from "../observe/backups";
import { renderBackupNowScript } from "../render/restore";
import { shellQuote } from "../render/quote";
import { accessSpec, leaderHost, readBackupAccess, repositoryHost } from "./backupAccess";

async function main() {
  const stack = process.argv[2] ?? "dev";
  const type = process.env.TYPE || "diff";
  if (type !== "full" && type !== "diff") throw new Error(`TYPE must be full or diff, got ${JSON.stringify(type)}`);
  const repo = process.env.REPO ? Number(process.env.REPO) : undefined;
  if (repo !== undefined && ![1, 2].includes(repo))
    throw new Error(`REPO must be 1 (the repository host) or 2 (S3), got ${process.env.REPO}`);
  const access = readBackupAccess(stack, process.env.CLUSTER || undefined);
  const spec = accessSpec(access);
  const run = await sshRun(
    spec,
    repositoryHost(access),
    `sudo -n bash -c ${shellQuote(renderBackupNowScript(access.stanza, type, repo))}`,
    6 * 3600_000,
  );
  if (run.code !== 0) throw new Error(run.err.trim().split("\n").pop() || `exit ${run.code}`);
  process.stdout.write(run.out);
  const state = await readBackupState(spec, leaderHost(access));
  const last = state.backups[state.backups.length - 1];
  if (last)
    console.log(
      `last backup: ${last.label} (${last.type}), ${last.start} → ${last.stop}, ${last.durationSeconds} s, ${last.sizeBytes} bytes (${last.repositoryBytes} in the repository)`,
    );
}

main().catch((e) => {
  console.error(`backup: ${(e as Error).message}`);
  process.exit(1);
});
