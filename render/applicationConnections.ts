// How an application reaches a cluster: one connection string over every member that is not
// down, in config order (a switchover changes no string), whose client library finds the member
// that fits itself. libpq (psql, the pg gem, psycopg, pgx) takes the keyword form or the URI;
// JDBC its own URL. No password is in any of them: the application brings its own (a .pgpass, an
// environment variable, its secret store), so the strings are not secrets.
//
// The CA: with verify-ca or verify-full the application verifies the members with the cluster's
// CA, but its path is the application's, not the controller's (spec.sslRootCert), so no string
// names one: libpq and JDBC look in ~/.postgresql/root.crt unless the application adds
// sslrootcert=PATH.
import { isIP } from "node:net";
import { ClientSpec, ClusterSpec } from "../config";
import { WAY_BACK_ROLE } from "../names";
import { conninfo } from "./quote";

/** Seconds a client waits for each member before it tries the next (libpq applies it per host). */
export const CONNECT_TIMEOUT_SECONDS = 5;

/** libpq's target_session_attrs, and JDBC's targetServerType, for each way in. */
const SESSION = {
  readWrite: { libpq: "read-write", jdbc: "primary" },
  readOnly: { libpq: "prefer-standby", jdbc: "preferSecondary" },
} as const;
type Session = keyof typeof SESSION;

export interface ConnectionStrings {
  /** libpq's keyword/value form: `host=a,b port=5432,5432 …` (psql, the pg gem, psycopg). */
  conninfo: string;
  /** libpq's URI: `postgresql://user@a:5432,b:5432/db?…`. */
  uri: string;
  /** pgJDBC's URL: `jdbc:postgresql://a:5432,b:5432/db?…`. */
  jdbc: string;
}

export interface ApplicationConnection {
  database: string;
  user: string;
  /** Reaches the leader only: a member that is a standby is skipped. */
  readWrite: ConnectionStrings;
  /** Reaches a standby when one answers, the leader otherwise (libpq 14 or later; pgJDBC 42.2 or later). */
  readOnly: ConnectionStrings;
}

/** What the connection strings are built from: a cluster's live members, its port and sslmode. */
export interface ApplicationTarget {
  /** The members' addresses (IP addresses or host names), in the order clients try them. */
  addresses: string[];
  port: number;
  sslmode: string;
}

/** An address as the host part of a URI: an IPv6 address in brackets. */
export function uriHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/** The members, `a:5432,[2001:db8::2]:5432`, as the URI and JDBC forms list them. */
function hostList(t: ApplicationTarget): string {
  return t.addresses.map((a) => `${uriHost(a)}:${t.port}`).join(",");
}

/** A URI query: every key and value percent-encoded. */
function query(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
}

export function renderConnectionStrings(t: ApplicationTarget, database: string, user: string, session: Session): ConnectionStrings {
  if (t.addresses.length === 0) throw new Error("no member to connect to: every host is down");
  const attrs = SESSION[session];
  const libpqParams = { sslmode: t.sslmode, connect_timeout: CONNECT_TIMEOUT_SECONDS, target_session_attrs: attrs.libpq };
  return {
    conninfo: conninfo({
      host: t.addresses.join(","),
      port: t.addresses.map(() => t.port).join(","),
      dbname: database,
      user,
      ...libpqParams,
    }),
    uri: `postgresql://${encodeURIComponent(user)}@${hostList(t)}/${encodeURIComponent(database)}?${query(libpqParams)}`,
    jdbc: `jdbc:postgresql://${hostList(t)}/${encodeURIComponent(database)}?${query({
      user,
      sslmode: t.sslmode,
      connectTimeout: CONNECT_TIMEOUT_SECONDS,
      targetServerType: attrs.jdbc,
    })}`,
  };
}

/** The clients an application uses: the config's, once per database and user (not the migration's way back). */
export function applicationClients(clients: ClientSpec[]): { database: string; user: string }[] {
  const seen = new Set<string>();
  return clients
    .filter((c) => c.user !== WAY_BACK_ROLE)
    .filter((c) => {
      const key = JSON.stringify([c.database, c.user]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map(({ database, user }) => ({ database, user }));
}

/** A cluster's connections, by database and then user: `.appdb.app.readWrite.conninfo`. */
export function renderApplicationConnections(spec: ClusterSpec): Record<string, Record<string, ApplicationConnection>> {
  const target: ApplicationTarget = {
    addresses: spec.hosts.filter((h) => !h.down).map((h) => h.address),
    port: spec.port,
    sslmode: spec.sslmode,
  };
  const out: Record<string, Record<string, ApplicationConnection>> = {};
  for (const { database, user } of applicationClients(spec.clients)) {
    out[database] ??= {};
    out[database][user] = {
      database,
      user,
      readWrite: renderConnectionStrings(target, database, user, "readWrite"),
      readOnly: renderConnectionStrings(target, database, user, "readOnly"),
    };
  }
  return out;
}
