// The replication state as a plain-text table, and the application connections under it, for
// `make status` (scripts/status.ts).
import { ReplicationState } from "../observe/replication";
import { ApplicationConnection } from "../render/applicationConnections";

const bytes = (n: number | null) =>
  n === null ? "-" : n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} kB` : `${(n / (1 << 20)).toFixed(1)} MB`;
const seconds = (n: number | null) => (n === null ? "-" : `${n.toFixed(3)} s`);

/** The replication state of every cluster as a plain-text table. */
export function formatReplicationState(state: Record<string, ReplicationState>): string {
  const rows: string[][] = [["cluster", "member", "role", "state", "sent lag", "replay lag", "replay lag (time)", "slot", "slot WAL kept"]];
  for (const [cluster, s] of Object.entries(state)) {
    rows.push([
      cluster,
      s.leader,
      s.leaderInRecovery ? "leader (in recovery!)" : "leader",
      s.error ? "unreadable" : "primary",
      "",
      "",
      "",
      "",
      "",
    ]);
    for (const [name, st] of Object.entries(s.standbys)) {
      rows.push([
        cluster,
        name,
        "standby",
        st.state,
        bytes(st.sentLagBytes),
        bytes(st.replayLagBytes),
        seconds(st.replayLagSeconds),
        `${st.slot} (${st.slotActive ? "active" : "inactive"}, ${st.walStatus})`,
        bytes(st.retainedWalBytes),
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const errors = Object.entries(state)
    .filter(([, s]) => s.error)
    .map(([c, s]) => `${c}: ${s.error}`);
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line), ...errors, ""].join("\n");
}

/** The applicationConnections output: cluster, then database, then user. */
export type ClusterConnections = Record<string, Record<string, Record<string, ApplicationConnection>>>;

/**
 * The application connections under the table: per cluster, database and user, the libpq
 * strings (the URI and JDBC forms are in the output itself). Absent on a stack whose last `up`
 * predates them.
 */
export function formatApplicationConnections(connections: ClusterConnections | undefined): string {
  if (connections === undefined) return "\napplication connections: none yet (the stack's last up predates them: run make up)\n";
  const lines = ["", "application connections (libpq; no password: each application brings its own)"];
  for (const [cluster, databases] of Object.entries(connections))
    for (const [database, users] of Object.entries(databases))
      for (const [user, c] of Object.entries(users)) {
        lines.push(`${cluster}: database ${JSON.stringify(database)}, user ${JSON.stringify(user)}`);
        lines.push(`  read-write  ${c.readWrite.conninfo}`);
        lines.push(`  read-only   ${c.readOnly.conninfo}`);
      }
  if (lines.length === 2) lines.push("none: no cluster lists clients");
  lines.push("URI and JDBC forms: pulumi stack output applicationConnections --json", "");
  return lines.join("\n");
}
