import { Endpoint, clientConfig } from "../lib/endpoint";
import { inSession } from "../lib/pgSession";

export type LoginCheck = "ok" | "refused" | "unreachable";

/**
 * Whether the endpoint's user logs in with its password (28P01: the password was refused). The
 * cluster's sslmode holds here too: with verify-ca or verify-full, a server whose certificate
 * does not verify never sees the password.
 */
export function checkLoginOverNetwork(at: Endpoint): Promise<LoginCheck> {
  return inSession<LoginCheck>(clientConfig(at, "pg-replication login check"), async () => "ok", loginFailure);
}

// 28P01: the password was refused; anything else, the server was not reached or not asked
function loginFailure(e: unknown): LoginCheck {
  return (e as { code?: string }).code === "28P01" ? "refused" : "unreachable";
}

let checker = checkLoginOverNetwork;

/** Unit tests replace the network check; the program always uses the real one. */
export function setLoginChecker(c: typeof checkLoginOverNetwork): void {
  checker = c;
}

export function checkLogin(at: Endpoint): Promise<LoginCheck> {
  return checker(at);
}

/** A login, and where the server sees it come from (inet_client_addr): the preview identity's one session. */
export interface LoginFrom {
  login: LoginCheck;
  from?: string;
}

export function loginFromOverNetwork(at: Endpoint): Promise<LoginFrom> {
  return inSession<LoginFrom>(
    clientConfig(at, "pg-replication login check"),
    async (client) => {
      const r = await client.query<{ address: string | null }>("select host(inet_client_addr()) as address");
      return { login: "ok", from: r.rows[0]?.address ?? undefined };
    },
    (e) => ({ login: loginFailure(e) }),
  );
}

let fromChecker = loginFromOverNetwork;

/** Unit tests replace the network check; the program always uses the real one. */
export function setLoginFromChecker(c: typeof loginFromOverNetwork): void {
  fromChecker = c;
}

export function checkLoginFrom(at: Endpoint): Promise<LoginFrom> {
  return fromChecker(at);
}
