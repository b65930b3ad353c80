// The recovery window of each cluster with backups, for a person: `make status` prints it.
import { BackupState } from "../observe/backups";

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export function formatRecoveryWindow(cluster: string, s: BackupState, when: "now" | "at the last up"): string {
  const lines = [`backups of ${cluster} (stanza ${s.stanza} on ${s.repository}), read ${when}: ${s.status}`];
  if (s.earliest) lines.push(`  can restore to any moment from ${s.earliest} to ${s.latest ?? "(no WAL archived yet)"}`);
  else lines.push("  no backup yet: make backup STACK=… TYPE=full takes one");
  if (s.wal) lines.push(`  archived WAL: ${s.wal.min} … ${s.wal.max}`);
  const a = s.archiving;
  if (a.healthy) lines.push(`  archiving: working${a.lastArchived ? `, last segment ${a.lastArchivedWal} at ${a.lastArchived}` : ""}`);
  else
    lines.push(
      `  archiving: FAILING since ${a.failingSince ?? "an unknown moment"}${a.lastFailed ? ` (last failure ${a.lastFailed})` : ""}: ${a.reason ?? ""}`,
    );
  if (s.backups.length > 0) {
    lines.push("  last backups:");
    for (const b of s.backups)
      lines.push(
        `    ${b.type.padEnd(5)} ${b.label.padEnd(34)} ${b.stop}  ${String(b.durationSeconds).padStart(5)} s  ${mib(b.sizeBytes).padStart(11)}  (${mib(b.repositoryBytes)} stored)`,
      );
  }
  return lines.join("\n") + "\n";
}
