// Whether a host's PostgreSQL port answers from here, and as what: the check behind a host stated
// fenced (config/fencing.ts). A server that logs the plan-time role in and is not in recovery can
// take writes; one that answers but does not log it in is still running, which is all that can be
// told of it.
import { DatabaseError } from "pg";
import { PostgresAnswer } from "../config/fencing";
import { Endpoint, clientConfig } from "../lib/endpoint";
import { inSession } from "../lib/pgSession";

/** A host away is expected not to answer: asking it costs this much at most. */
const ASK_TIMEOUT_MS = 3_000;

export function askPostgresOverNetwork(at: Endpoint): Promise<PostgresAnswer> {
  return inSession<PostgresAnswer>(
    { ...clientConfig(at, "pg-replication fence check"), connectionTimeoutMillis: ASK_TIMEOUT_MS },
    async (client) => {
      const r = await client.query<{ standby: boolean }>("select pg_is_in_recovery() as standby");
      return r.rows[0].standby ? "standby" : "primary";
    },
    // an error message from the server: it runs, and refused this login (or is starting, or stopping)
    (e) => (e instanceof DatabaseError ? "not logged in" : "no answer"),
  );
}

let asker = askPostgresOverNetwork;

/** Unit tests replace the network check; the program always uses the real one. */
export function setPostgresAsker(a: typeof askPostgresOverNetwork): void {
  asker = a;
}

export function askPostgres(at: Endpoint): Promise<PostgresAnswer> {
  return asker(at);
}
