// Load for the tests that change a cluster under its users: a writer that follows the leader and
// remembers every insert the server acknowledged, and a reader that samples every member.
import { Client } from "pg";
import { host } from "./sandbox";

/** A client of `member` over TLS, as an application connects; errors surface on its queries. */
function client(member: string, password: string, user = "pgr_admin", database = "postgres"): Client {
  const c = new Client({
    host: host(member).address,
    port: 5432,
    user,
    password,
    database,
    ssl: { rejectUnauthorized: false },
    connectionTimeoutMillis: 3000,
    query_timeout: 3000,
  });
  c.on("error", () => undefined);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A loop over the members that runs in the background from start() until stop(). */
abstract class Load<T> {
  protected stopped = false;
  private done: Promise<void> | undefined;

  constructor(
    protected readonly members: string[],
    protected readonly password: string,
  ) {}

  start(): void {
    this.done = this.loop();
  }

  async stop(): Promise<T> {
    this.stopped = true;
    await this.done;
    return this.result();
  }

  protected abstract loop(): Promise<void>;
  protected abstract result(): T;
}

/** Inserts ids 1, 2, 3… into pgr_writes on whichever member is the primary, until stopped. */
export class Writer extends Load<number[]> {
  readonly acknowledged: number[] = [];

  protected result(): number[] {
    return this.acknowledged;
  }

  private async primary(): Promise<Client | undefined> {
    for (const m of this.members) {
      const c = client(m, this.password);
      try {
        await c.connect();
        if ((await c.query("select pg_is_in_recovery() as r")).rows[0].r === false) return c;
      } catch {
        // not reachable, or not accepting connections: try the next
      }
      await c.end().catch(() => undefined);
    }
    return undefined;
  }

  protected async loop(): Promise<void> {
    let next = 1;
    let c: Client | undefined;
    while (!this.stopped) {
      c ??= await this.primary();
      if (!c) {
        await sleep(100);
        continue;
      }
      try {
        await c.query("insert into pgr_writes (id) values ($1)", [next]);
        this.acknowledged.push(next++);
        await sleep(10);
      } catch {
        await c.end().catch(() => undefined);
        c = undefined;
        next++; // an insert in doubt is never counted as acknowledged
      }
    }
    await c?.end().catch(() => undefined);
  }
}

interface Round {
  at: number;
  answered: string[];
}

/** Asks every member `select 1` every 100 ms; remembers which answered at each round. */
export class Reader extends Load<Round[]> {
  readonly rounds: Round[] = [];

  protected result(): Round[] {
    return this.rounds;
  }

  protected async loop(): Promise<void> {
    const clients = new Map<string, Client>();
    const ask = async (m: string): Promise<boolean> => {
      try {
        let c = clients.get(m);
        if (!c) {
          c = client(m, this.password);
          clients.set(m, c);
          await c.connect();
        }
        await c.query("select 1");
        return true;
      } catch {
        await clients
          .get(m)
          ?.end()
          .catch(() => undefined);
        clients.delete(m);
        return false;
      }
    };
    while (!this.stopped) {
      const started = Date.now();
      const answers = await Promise.all(this.members.map(ask));
      this.rounds.push({ at: started, answered: this.members.filter((_, i) => answers[i]) });
      await sleep(Math.max(0, 100 - (Date.now() - started)));
    }
    for (const c of clients.values()) await c.end().catch(() => undefined);
  }
}

/**
 * The application of a migration: an order every 10 ms into `appdb` on the old server, then, once
 * the old server refuses writes (the cutover), on the new leader pg1; remembers each acknowledged id.
 */
/**
 * Whether a write refused on the old server was refused because its database is read-only by
 * default (the cutover's freeze), asked on the session that was refused: a session begun after the
 * freeze takes the database's default, and the freeze ends every session begun before it.
 */
async function sourceFrozen(c: Client | undefined, e: unknown): Promise<boolean> {
  if (!c || (e as { code?: string }).code !== "25006") return false;
  try {
    const r = await c.query("show default_transaction_read_only");
    return r.rows[0].default_transaction_read_only === "on";
  } catch {
    return false;
  }
}

export class OrderWriter {
  readonly onSource: number[] = [];
  readonly onTarget: number[] = [];
  /** When each write was acknowledged (ms since the epoch), in order, on either side. */
  readonly ackedAt: number[] = [];
  private stopped = false;
  private done?: Promise<void>;
  constructor(
    private readonly password: string,
    /** The write: it returns the row's id. */
    private readonly sql = "insert into orders (customer_id, amount) values (1, 10) returning id",
  ) {}

  /** The longest time the application waited between two acknowledged writes, in seconds. */
  longestGap(): number {
    let gap = 0;
    for (let i = 1; i < this.ackedAt.length; i++) gap = Math.max(gap, this.ackedAt[i] - this.ackedAt[i - 1]);
    return gap / 1000;
  }
  start(): void {
    this.done = (async () => {
      let where: "old" | "pg1" = "old";
      let c: Client | undefined;
      while (!this.stopped) {
        try {
          if (!c) {
            c = client(where, this.password, "app", "appdb");
            await c.connect();
          }
          const r = await c.query(this.sql);
          (where === "old" ? this.onSource : this.onTarget).push(Number(r.rows[0].id));
          this.ackedAt.push(Date.now());
        } catch (e) {
          // the source refusing writes by its database's own default is the cutover: the
          // application moves to the new leader (asked on its own session, as an application can)
          const frozen = where === "old" && this.onSource.length > 0 && (await sourceFrozen(c, e));
          await c?.end().catch(() => undefined);
          c = undefined;
          if (frozen) where = "pg1";
          else await sleep(20);
        }
        await sleep(10);
      }
      await c?.end().catch(() => undefined);
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/** One order inserted as the application on `member`: its id, or the server's refusal. */
export async function insertOrder(member: string, password: string): Promise<number | string> {
  const c = client(member, password, "app", "appdb");
  try {
    await c.connect();
    const r = await c.query("insert into orders (customer_id, amount) values (1, 10) returning id");
    return Number(r.rows[0].id);
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * A superuser's script on the old server that writes past a read-only default (`SET
 * default_transaction_read_only = off`), as an admin's cron job might, until its session is
 * taken from it or it cannot get one: what it had acknowledged must be on the target.
 */
export class SuperuserWriter {
  readonly acknowledged: number[] = [];
  stoppedBy = "";
  private stopped = false;
  private done?: Promise<void>;
  constructor(
    private readonly user: string,
    private readonly password: string,
  ) {}
  start(): void {
    this.done = (async () => {
      const c = client("old", this.password, this.user, "appdb");
      try {
        await c.connect();
        await c.query("set default_transaction_read_only = off");
        while (!this.stopped) {
          const r = await c.query("insert into orders (customer_id, amount) values (1, 99) returning id");
          this.acknowledged.push(Number(r.rows[0].id));
          await sleep(10);
        }
      } catch (e) {
        this.stoppedBy = (e as Error).message;
      } finally {
        await c.end().catch(() => undefined);
      }
    })();
  }
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}
