// Whether a stack is healthy now, read live on each leader: every standby streaming with lag under
// PGR_MAX_LAG_BYTES, no migration in the middle of its cutover (promotion and refresh gate on it).
import { Stack } from "@pulumi/pulumi/automation";
import { slotName } from "../names";
import { readReplicationState } from "../observe/replication";
import { healthProblems, migrationProblem } from "./gates";

export async function healthOf(from: Stack): Promise<string[]> {
  const outputs = await from.outputs();
  const clusters = (outputs.clusterState?.value ?? {}) as Record<string, { leader: string; members: string[] }>;
  const urls = (outputs.connectionStrings?.value ?? {}) as Record<string, { admin: string }>;
  const problems: string[] = [];
  const maxLag = Number(process.env.PGR_MAX_LAG_BYTES ?? 16 * 1024 * 1024);
  for (const [name, c] of Object.entries(clusters)) {
    const u = new URL(urls[name].admin);
    const standbys = c.members.filter((m) => m !== c.leader);
    const state = await readReplicationState(
      c.leader,
      {
        host: u.hostname,
        port: Number(u.port || 5432),
        database: "postgres",
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        sslmode: u.searchParams.get("sslmode") ?? "require",
        sslrootcert: u.searchParams.get("sslrootcert") ?? undefined,
        // the admin's client certificate, when the cluster has one (adminCertificate)
        sslcert: u.searchParams.get("sslcert") ?? undefined,
        sslkey: u.searchParams.get("sslkey") ?? undefined,
      },
      Object.fromEntries(standbys.map((s) => [s, slotName(s)])),
    );
    problems.push(...healthProblems(from.name, name, state, standbys, maxLag));
  }
  const m = migrationProblem(from.name, outputs.migration?.value as { phase?: string; cutoverReport?: unknown } | undefined);
  return m ? [...problems, m] : problems;
}
