// Prints a stack's replication state (its `replicationState` output, refreshed by every `up`)
// as a table for a person, under it how applications connect (`applicationConnections`), and the
// recovery window of each cluster with backups, read now from its repository host and leader:
// node -r ts-node/register/transpile-only scripts/status.ts STACK
import { execFileSync } from "node:child_process";
import { ReplicationState } from "../observe/replication";
import { readBackupState } from "../observe/backups";
import { BackupAccess, accessSpec, leaderHost } from "./backupAccess";
import { formatRecoveryWindow } from "./backupTable";
import { ClusterConnections, formatApplicationConnections, formatReplicationState } from "./statusTable";

async function main() {
  const stack = process.argv[2] ?? "dev";
  // every output at once, secrets left masked: none of those read here is one
  const raw = execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8" });
  const outputs = JSON.parse(raw) as {
    replicationState?: Record<string, ReplicationState>;
    applicationConnections?: ClusterConnections;
    backups?: Record<string, BackupAccess>;
  };
  process.stdout.write(formatReplicationState(outputs.replicationState ?? {}));
  process.stdout.write(formatApplicationConnections(outputs.applicationConnections));
  for (const [cluster, access] of Object.entries(outputs.backups ?? {})) {
    let state = access.state;
    let when: "now" | "at the last up" = "at the last up";
    try {
      state = await readBackupState(accessSpec(access), leaderHost(access));
      when = "now";
    } catch {
      // no SSH access from here (no deploy key in the agent): the last up's reading
    }
    process.stdout.write("\n" + formatRecoveryWindow(cluster, state, when));
  }
}

main().catch((e) => {
  console.error(`status: ${(e as Error).message}`);
  process.exit(1);
});
