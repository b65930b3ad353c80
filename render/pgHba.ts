import { isIP } from "node:net";
import { ClusterSpec } from "../config";

export const HBA_BEGIN = "# BEGIN pg-replication (managed by Pulumi; edits inside this block are overwritten)";
export const HBA_END = "# END pg-replication";

export interface HbaRoles {
  admin: string;
  replication: string;
  /** The preview identity's pg_monitor role: plan-time reads from where `pulumi` runs. */
  preview?: string;
}

/** A host's address as a pg_hba.conf address: a /32 or /128 of an IP, or a host name as is. */
export function hbaAddress(address: string): string {
  const family = isIP(address);
  return family === 4 ? `${address}/32` : family === 6 ? `${address}/128` : address;
}

function line(type: string, database: string, user: string, address: string, method: string): string {
  return [type.padEnd(7), database.padEnd(15), user.padEnd(15), address.padEnd(23), method].join(" ").trimEnd();
}

// pg_hba takes a name as is unless it is quoted; quote whatever is not a plain word.
function hbaName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !["all", "replication", "sameuser", "samerole", "samegroup"].includes(name)
    ? name
    : `"${name.replace(/"/g, '""')}"`;
}

/** The admin's password, and its client certificate too when the cluster names one (its CN must be the role's name). */
function adminMethod(cluster: ClusterSpec): string {
  return cluster.adminCertificate ? "scram-sha-256 clientcert=verify-full" : "scram-sha-256";
}

/**
 * The block this project owns at the top of every member's pg_hba.conf. Every member lists the
 * whole cluster, so any of them can be promoted; the replication role may stream WAL from a
 * member and is rejected by every database (first match wins, so the rejects come before any
 * line below the block). Logins travel over TLS (hostssl) unless the cluster's sslmode is
 * disable; the rejects match every connection, TLS or not.
 */
export function renderHbaBlock(cluster: ClusterSpec, roles: HbaRoles): string {
  const admin = hbaName(roles.admin);
  const repl = hbaName(roles.replication);
  const login = cluster.sslmode === "disable" ? "host" : "hostssl";
  const lines = [HBA_BEGIN];
  for (const cidr of cluster.adminAddresses) lines.push(line(login, "all", admin, cidr, adminMethod(cluster)));
  if (roles.preview)
    for (const cidr of cluster.ssh.preview?.from ?? cluster.adminAddresses)
      lines.push(line(login, "postgres", hbaName(roles.preview), cidr, "scram-sha-256"));
  for (const h of cluster.hosts) lines.push(line(login, "replication", repl, hbaAddress(h.address), "scram-sha-256"));
  lines.push(line("host", "all", repl, "0.0.0.0/0", "reject"));
  lines.push(line("host", "all", repl, "::/0", "reject"));
  lines.push(line("local", "all", repl, "", "reject"));
  for (const c of cluster.clients) lines.push(line(login, hbaName(c.database), hbaName(c.user), c.address, "scram-sha-256"));
  lines.push(HBA_END);
  return lines.join("\n") + "\n";
}

/** pg_hba.conf while a refresh runs: the local postgres account and the admin's lines, nothing else. */
export function renderAdminOnlyHba(cluster: ClusterSpec, admin: string): string {
  const login = cluster.sslmode === "disable" ? "host" : "hostssl";
  return [
    "# pg-replication: a refresh is running; only the admin may connect until it ends",
    line("local", "all", "postgres", "", "peer"),
    ...cluster.adminAddresses.map((cidr) => line(login, "all", hbaName(admin), cidr, adminMethod(cluster))),
    "",
  ].join("\n");
}
