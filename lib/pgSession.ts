import { Client, ClientConfig } from "pg";

/**
 * One short session: connect, `use` the client, and end the session whatever happens. A failure
 * to connect or inside `use` goes to `failed`, whose answer is returned: plan-time reads never throw.
 */
export async function inSession<T>(config: ClientConfig, use: (client: Client) => Promise<T>, failed: (e: unknown) => T): Promise<T> {
  const client = new Client(config);
  client.on("error", () => undefined);
  try {
    await client.connect();
    return await use(client);
  } catch (e) {
    return failed(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}
