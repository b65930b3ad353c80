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
  /** This login's client certificate and its key (PEM files), when the server asks for one. */
  sslcert?: string;
  sslkey?: string;
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

/** An endpoint's client certificate fields for a configured {cert, key} (none when absent). */
export function clientCertificate(files?: { cert: string; key: string }): Pick<Endpoint, "sslcert" | "sslkey"> {
  return files ? { sslcert: files.cert, sslkey: files.key } : {};
}

// Files this machine cannot read (a preview's runner holds no admin certificate) are left out:
// the server then refuses the login and says why, where a read would have thrown.
function withClientCertificate(tls: false | ConnectionOptions, e: Endpoint): false | ConnectionOptions {
  if (tls === false || !e.sslcert || !e.sslkey) return tls;
  try {
    return { ...tls, cert: fs.readFileSync(e.sslcert, "utf8"), key: fs.readFileSync(e.sslkey, "utf8") };
  } catch {
    return tls;
  }
}

/** node-pg's configuration for an endpoint; connecting gives up after 10 s. */
export function clientConfig(e: Endpoint, applicationName?: string): ClientConfig {
  return {
    host: e.host,
    port: e.port,
    database: e.database,
    user: e.user,
    password: e.password,
    ssl: withClientCertificate(tlsOptions(e.sslmode, e.sslrootcert), e),
    connectionTimeoutMillis: 10_000,
    ...(applicationName ? { application_name: applicationName } : {}),
  };
}
