// make demo: the application during the migration. Writes an order every 10 ms on the old server,
// follows the cutover to the new leader, and on SIGTERM writes what it saw to the file it is given.
import * as fs from "node:fs";
import { OrderWriter } from "../test/support/load";

const [out] = process.argv.slice(2);
const writer = new OrderWriter(process.env.PGR_OLD_APP_PASSWORD ?? "app-pw-2026");
writer.start();
process.on("SIGTERM", () => {
  void writer.stop().then(() => {
    fs.writeFileSync(out, JSON.stringify({ onSource: writer.onSource, onTarget: writer.onTarget }));
    process.exit(0);
  });
});
