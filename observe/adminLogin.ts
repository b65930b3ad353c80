import { Endpoint, clientConfig } from "../lib/endpoint";
import { inSession } from "../lib/pgSession";

export type LoginCheck = "ok" | "refused" | "unreachable";

/**
 * Whether the endpoint's user logs in with its password (28P01: the password was refused). The
 * cluster's sslmode holds here too: with verify-ca or verify-full, a server whose certificate
 * does not verify never sees the password.
 */
export function checkLoginOverNetwork(at: Endpoint): Promise<LoginCheck> {
  return inSession<LoginCheck>(
    clientConfig(at, "pg-replication login check"),
    async () => "ok",
    (e) => ((e as { code?: string }).code === "28P01" ? "refused" : "unreachable"),
  );
}

let checker = checkLoginOverNetwork;

/** Unit tests replace the network check; the program always uses the real one. */
export function setLoginChecker(c: typeof checkLoginOverNetwork): void {
  checker = c;
}

export function checkLogin(at: Endpoint): Promise<LoginCheck> {
  return checker(at);
}

/** The address the server sees this machine's login come from (inet_client_addr), or undefined when it cannot be read. */
export function clientAddressOverNetwork(at: Endpoint): Promise<string | undefined> {
  return inSession(
    clientConfig(at, "pg-replication login check"),
    async (client) => {
      const r = await client.query<{ address: string | null }>("select host(inet_client_addr()) as address");
      return r.rows[0]?.address ?? undefined;
    },
    () => undefined,
  );
}

let addressReader = clientAddressOverNetwork;

/** Unit tests replace the network read; the program always uses the real one. */
export function setClientAddressReader(r: typeof clientAddressOverNetwork): void {
  addressReader = r;
}

export function clientAddress(at: Endpoint): Promise<string | undefined> {
  return addressReader(at);
}
