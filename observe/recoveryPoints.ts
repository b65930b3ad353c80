// The lines host/restore/recovery-points.sh prints, into commits a person can pick a restore
// target from: when, which transaction, at which LSN, and what it deleted, truncated or dropped.

export interface RecoveryPoint {
  time: string;
  xid: string;
  lsn: string;
  /** relfilenode → rows deleted. */
  deletes: Record<string, number>;
  /** Relation OIDs truncated. */
  truncated: string[];
  /** relfilenodes whose files the commit removed (a DROP, a TRUNCATE, a rewrite). */
  dropped: string[];
}

export function parsePoints(output: string): RecoveryPoint[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("point|"))
    .map((l) => {
      const [, time, xid, lsn, deletes, truncated, dropped] = l.split("|");
      return {
        time,
        xid,
        lsn,
        deletes: Object.fromEntries(
          (deletes ?? "")
            .split(",")
            .filter(Boolean)
            .map((d) => {
              const [node, count] = d.split(":");
              return [node, Number(count)];
            }),
        ),
        truncated: (truncated ?? "").split(",").filter(Boolean),
        dropped: (dropped ?? "").split(",").filter(Boolean),
      };
    });
}

/** What a commit did, in words, with the names the leader knows now (relfilenode or OID → name). */
export function describePoint(p: RecoveryPoint, byFilenode: Record<string, string>, byOid: Record<string, string>): string {
  const parts: string[] = [];
  if (p.truncated.length > 0) parts.push(`TRUNCATE ${p.truncated.map((o) => byOid[o] ?? `relation ${o}`).join(", ")}`);
  for (const [node, count] of Object.entries(p.deletes))
    parts.push(
      `DELETE ${count} row${count === 1 ? "" : "s"} from ${byFilenode[node] ?? `a relation since rewritten or dropped (file ${node})`}`,
    );
  if (p.truncated.length === 0 && p.dropped.length > 0) {
    const known = p.dropped.filter((n) => byFilenode[n]).map((n) => byFilenode[n]);
    parts.push(
      known.length === p.dropped.length
        ? `rewrote ${known.join(", ")}`
        : `dropped or rewrote ${p.dropped.length} relation file${p.dropped.length === 1 ? "" : "s"} (${p.dropped.join(", ")})`,
    );
  }
  return parts.join("; ");
}
