// What the program's roles need on a member: the admin role's SQL (run through the local
// postgres account) and the replication role's passfile.
import { POSTGRES_HOME } from "../postgres15";
import { passfileField, sqlIdent, sqlLiteral } from "./quote";

/** The replication role's passfile on every member (mode 0600, owner postgres). */
export const PASSFILE_PATH = `${POSTGRES_HOME}/.pg-replication.pgpass`;

/** A .pgpass line that lets `role` in for replication, whatever the leader. */
export function renderPassfile(role: string, password: string): string {
  return `*:*:replication:${passfileField(role)}:${passfileField(password)}\n`;
}

/**
 * SQL that creates or updates the superuser role the postgresql provider logs in with.
 * `verifier` is a SCRAM verifier, never the password; the SQL travels on stdin, not argv.
 */
export function renderAdminRoleSql(role: string, verifier: string, note?: string, repairRole?: { role: string; verifier: string }): string {
  return [
    ...(note ? [`-- ${note.replace(/\n/g, " ")}`] : []),
    `SELECT format('CREATE ROLE %I', ${sqlLiteral(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlLiteral(role)}) \\gexec`,
    `ALTER ROLE ${sqlIdent(role)} WITH LOGIN SUPERUSER PASSWORD ${sqlLiteral(verifier)};`,
    // a role whose stored verifier drifted from the configured password gets it back
    ...(repairRole ? [`ALTER ROLE ${sqlIdent(repairRole.role)} PASSWORD ${sqlLiteral(repairRole.verifier)};`] : []),
    "",
  ].join("\n");
}
