// Which moment a restore recovers to: a time with its zone, a transaction id or an LSN.

export interface RestoreTarget {
  type: "time" | "xid" | "lsn";
  value: string;
  /** A time target's moment (ms since the epoch). */
  ms?: number;
}

export function parseRestoreTarget(t: { at?: string; xid?: string; lsn?: string }): RestoreTarget {
  const given = [t.at && "AT", t.xid && "XID", t.lsn && "LSN"].filter(Boolean);
  if (given.length !== 1) throw new Error("give exactly one of AT (a time with its zone), XID or LSN");
  if (t.xid) {
    if (!/^[0-9]{1,20}$/.test(t.xid)) throw new Error(`XID must be a transaction id (digits), got ${JSON.stringify(t.xid)}`);
    return { type: "xid", value: t.xid };
  }
  if (t.lsn) {
    if (!/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(t.lsn)) throw new Error(`LSN must look like 0/3000060, got ${JSON.stringify(t.lsn)}`);
    return { type: "lsn", value: t.lsn.toUpperCase() };
  }
  const at = t.at!;
  // a time without its zone would be read in the repository host's zone: refused
  if (!/(Z|[+-][0-9]{2}(:?[0-9]{2})?)$/.test(at))
    throw new Error(`AT must end with its time zone (e.g. +00 or Z), got ${JSON.stringify(at)}`);
  const normalized = at.replace(" ", "T").replace(/([+-][0-9]{2})$/, "$1:00");
  const ms = Date.parse(normalized);
  if (Number.isNaN(ms)) throw new Error(`AT is not a time: ${JSON.stringify(at)}`);
  return { type: "time", value: new Date(ms).toISOString().replace("T", " ").replace("Z", "+00"), ms };
}
