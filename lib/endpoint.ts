// A PostgreSQL server as the controller connects to it (the plan-time reads, the migration's
// local steps), and how its sslmode becomes node-pg's TLS options. libpq's meaning, kept:
// require encrypts and verifies nothing; verify-ca checks the certificate's chain but not its
// name; verify-full checks both.
import * as fs from "node:fs";
import type { ClientConfig } from "pg";
import type { ConnectionOptions } from "node:tls";

export interface Endpoint {
  /** The server's address (an IP address or a host name). */
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** disable, allow, prefer, require, verify-ca or verify-full. */
  sslmode: string;
  /** A PEM file of the CA that signs the server's certificate (verify-ca, verify-full); the system's CAs otherwise. */
  sslrootcert?: string;
}

/** node-pg's `ssl` option for an sslmode. allow and prefer do not fall back to plain text here: they encrypt, as require. */
export function tlsOptions(sslmode: string, sslrootcert?: string): false | ConnectionOptions {
  if (sslmode === "disable") return false;
  if (sslmode !== "verify-ca" && sslmode !== "verify-full") return { rejectUnauthorized: false };
  const ca = sslrootcert ? { ca: fs.readFileSync(sslrootcert, "utf8") } : {};
  // verify-ca: the chain is checked, the name in the certificate is not
  return sslmode === "verify-ca"
    ? { rejectUnauthorized: true, ...ca, checkServerIdentity: () => undefined }
    : { rejectUnauthorized: true, ...ca };
}

/** node-pg's configuration for an endpoint; connecting gives up after 10 s. */
export function clientConfig(e: Endpoint, applicationName?: string): ClientConfig {
  return {
    host: e.host,
    port: e.port,
    database: e.database,
    user: e.user,
    password: e.password,
    ssl: tlsOptions(e.sslmode, e.sslrootcert),
    connectionTimeoutMillis: 10_000,
    ...(applicationName ? { application_name: applicationName } : {}),
  };
}
