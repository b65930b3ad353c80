// make demo: after the cutover, shows that the old server (read-only) has followed every order
// the writer made on the new leader: the way back would lose nothing. Exits non-zero otherwise.
import * as fs from "node:fs";
import { Client } from "pg";

async function main(): Promise<void> {
  const { onTarget } = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as { onTarget: number[] };
  const c = new Client({
    host: "10.77.0.10",
    user: "app",
    password: process.env.PGR_OLD_APP_PASSWORD ?? "app-pw-2026",
    database: "appdb",
    ssl: { rejectUnauthorized: false },
  });
  await c.connect();
  let missing = onTarget.length;
  for (let i = 0; i < 100 && missing > 0; i++) {
    const r = await c.query("select count(*)::int as n from orders where id = any($1::bigint[])", [onTarget]);
    missing = onTarget.length - (r.rows[0].n as number);
    if (missing > 0) await new Promise((res) => setTimeout(res, 100));
  }
  await c.end();
  console.log(
    `way back           the old server has ${onTarget.length - missing} of the ${onTarget.length} orders written on the new leader`,
  );
  if (missing > 0) process.exitCode = 1;
}

void main();
