import { Client } from "pg";

export type LoginCheck = "ok" | "refused" | "unreachable";

/** Whether `user` logs in on the server with `password` (28P01: the password was refused). */
export async function checkLoginOverNetwork(
  address: string,
  port: number,
  user: string,
  password: string,
  sslmode: string,
): Promise<LoginCheck> {
  const client = new Client({
    host: address,
    port,
    user,
    password,
    database: "postgres",
    ssl: sslmode === "disable" ? false : { rejectUnauthorized: false },
    connectionTimeoutMillis: 10_000,
  });
  try {
    await client.connect();
    return "ok";
  } catch (e) {
    return (e as { code?: string }).code === "28P01" ? "refused" : "unreachable";
  } finally {
    await client.end().catch(() => undefined);
  }
}

let checker = checkLoginOverNetwork;

/** Unit tests replace the network check; the program always uses the real one. */
export function setLoginChecker(c: typeof checkLoginOverNetwork): void {
  checker = c;
}

export function checkLogin(address: string, port: number, user: string, password: string, sslmode: string): Promise<LoginCheck> {
  return checker(address, port, user, password, sslmode);
}
