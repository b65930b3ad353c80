// A host marked down that is not: fenced before the failover's promotion, through the real engine
// on the sandbox's dev stack. pg1 alive and primary while marked down is stopped (and set to start
// by hand) before pg2 is promoted; pg1 unreachable stops the preview until config says it is
// fenced. Then an application on libpq (psql with the read-write string of the output) writing
// through a switchover there and back and a failover loses no acknowledged write. Each test
// leaves pg1 the leader of pg2 and pg3.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { devStack } from "../support/devStack";
import { eventually, isPrimary, streamingFrom } from "../support/hosts";
import { LibpqWriter, prepareLibpqWriter, removeLibpqWriter } from "../support/libpqWriter";
import { ssh, sshOk } from "../support/sandbox";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOG = "/var/log/postgresql/postgresql-15-main.log";

/** Whether postgresql runs on `member` (pg_ctlcluster status: 0 running, 3 stopped). */
const runs = (member: string) => ssh(member, "sudo -n pg_ctlcluster 15 main status >/dev/null").code === 0;
const startConf = (member: string) => sshOk(member, "grep -v '^#' /etc/postgresql/15/main/start.conf").trim();

/** When `member`'s server log last said `what` (ms since the epoch; the sandbox hosts share one clock). */
function loggedAt(member: string, what: string): number {
  const line = sshOk(member, `sudo -n grep -F ${JSON.stringify(what)} ${LOG} | tail -n 1`).trim();
  const at = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\S+)/.exec(line);
  assert.ok(at, `${member}'s log says "${what}": ${line}`);
  return Date.parse(`${at[1].replace(" ", "T")}Z`);
}

function sandboxScript(script: string, ...args: string[]): void {
  const r = spawnSync("bash", [`sandbox/${script}`, ...args], { cwd: path.resolve(__dirname, "../.."), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`sandbox/${script}: ${r.stdout}${r.stderr}`);
}

describe("fencing a host marked down, through the engine", function () {
  this.timeout(1_800_000);
  const dev = devStack();

  before(() => dev.ensureUp());

  afterEach(function () {
    if (this.currentTest?.state === "failed")
      process.stderr.write(`state after the failure:\n${dev.ok(["stack", "output", "replicationState"])}\n`);
  });

  /** pg1 back from down, following pg2, then the leader again: as every test leaves the cluster. */
  async function pg1LeadsAgain(): Promise<void> {
    dev.editCluster((c) => {
      const pg1 = c.hosts.find((h) => h.name === "pg1")!;
      delete pg1.down;
      delete pg1.fenced;
      c.leader = "pg2";
    });
    const rejoined = await dev.upAsync();
    await eventually("pg1 streams from pg2", () => streamingFrom("pg1", "pg2"), 60);
    assert.equal(startConf("pg1"), "auto", `pg1 starts with its host again once it streams\n${rejoined}`);
    dev.editCluster((c) => (c.leader = "pg1"));
    const back = await dev.upAsync();
    assert.match(back, /pg1: promoting pg1 to leader/);
    for (const m of ["pg2", "pg3"]) await eventually(`${m} streams from pg1`, () => streamingFrom(m, "pg1"), 60);
  }

  it("fails over to pg2 with pg1 marked down but alive and primary: pg1 is stopped before pg2 is promoted", async () => {
    assert.ok(isPrimary("pg1"));
    dev.editCluster((c) => {
      c.leader = "pg2";
      c.hosts.find((h) => h.name === "pg1")!.down = true;
    });
    const preview = dev.ok(["preview", "--diff"]);
    assert.match(preview, /main-pg1-fence/, "the preview shows the fence step on pg1");
    const out = await dev.upAsync();
    assert.match(out, /pg1: marked down but running as a primary: stopping it \(fast shutdown\) before another member is promoted/);
    assert.match(out, /pg1: \/etc\/postgresql\/15\/main\/start\.conf: manual/);
    assert.match(out, /pg2: promoting pg2 to leader/);
    const stopped = loggedAt("pg1", "database system is shut down");
    const promoted = loggedAt("pg2", "selected new timeline ID");
    assert.ok(
      stopped < promoted,
      `pg1 stopped (${new Date(stopped).toISOString()}) before pg2 was promoted (${new Date(promoted).toISOString()})`,
    );
    assert.ok(!runs("pg1"), "pg1 stays stopped");
    assert.equal(startConf("pg1"), "manual", "a reboot of pg1 leaves it stopped");
    assert.ok(isPrimary("pg2"));
    assert.ok(!isPrimary("pg3"), "only pg2 is a primary");
    await eventually("pg3 streams from pg2", () => streamingFrom("pg3", "pg2"));
    // the fence step runs once more without its observed line, then the cluster is converged
    dev.up();
    assert.equal(dev.run(["preview", "--expect-no-changes"]).code, 0);
    await pg1LeadsAgain();
  });

  it("refuses a failover while pg1, marked down, cannot be reached, until config says it is fenced", async () => {
    // stated fenced while its sshd is gone but its postgres still answers as a primary: not fenced
    sandboxScript("stop-sshd.sh", "pg1");
    try {
      dev.editCluster((c) => {
        c.leader = "pg2";
        Object.assign(
          c.hosts.find((h) => h.name === "pg1")!,
          { down: true, fenced: true },
        );
      });
      const refused = dev.run(["preview"]);
      assert.notEqual(refused.code, 0, "a host stated fenced that answers as a primary is not taken at its word");
      assert.match(
        refused.stdout + refused.stderr,
        /pg-replication:clusters\[0\]\.hosts\[0\]\.fenced: is true, but pg1's PostgreSQL at [\d.]+:5432 answers from here as a primary/,
      );
      assert.ok(!isPrimary("pg2"), "pg2 was not promoted");
      dev.editCluster((c) => delete c.hosts.find((h) => h.name === "pg1")!.fenced);
    } finally {
      sandboxScript("up.sh");
    }
    const pid = sshOk("pg1", "sudo -n head -n 1 /var/lib/postgresql/15/main/postmaster.pid").trim();
    sshOk("pg1", `sudo -n kill -9 ${pid}`);
    sandboxScript("stop-sshd.sh", "pg1");
    try {
      dev.editCluster((c) => {
        c.leader = "pg2";
        c.hosts.find((h) => h.name === "pg1")!.down = true;
      });
      const refused = dev.run(["preview"]);
      assert.notEqual(refused.code, 0, "no promotion on an unreachable host's silence");
      const said = refused.stdout + refused.stderr;
      assert.match(
        said,
        /pg-replication:clusters\[0\]\.hosts\[0\]: pg1 is marked down and does not answer over SSH, and pg2 is to be promoted/,
      );
      assert.match(said, /make pg1 reachable .* set pg-replication:clusters\[0\]\.hosts\[0\]\.fenced to true/);
      assert.ok(!isPrimary("pg2"), "pg2 was not promoted");

      dev.editCluster((c) => (c.hosts.find((h) => h.name === "pg1")!.fenced = true));
      const out = await dev.upAsync();
      assert.match(out, /pg2: promoting pg2 to leader/);
      assert.ok(isPrimary("pg2"));
      await eventually("pg3 streams from pg2", () => streamingFrom("pg3", "pg2"));
      // converged: the statement is no longer needed while pg1 stays away
      dev.editCluster((c) => delete c.hosts.find((h) => h.name === "pg1")!.fenced);
      const converged = dev.run(["preview", "--expect-no-changes"]);
      assert.equal(converged.code, 0, converged.stdout + converged.stderr);
    } finally {
      // sshd back, and pg1's postgres with it: a primary on the old timeline, still marked down
      sandboxScript("up.sh");
    }
    await eventually("pg1 runs again", () => runs("pg1"), 60);
    const fenced = await dev.upAsync();
    assert.match(fenced, /pg1: marked down but running as a primary: stopping it/, "a former leader back while marked down is fenced");
    assert.ok(!runs("pg1"));
    await pg1LeadsAgain();
  });

  it("refuses a failover while pg1, stated fenced, is cut off from this machine alone and answers the members as a primary", async () => {
    // pg1 runs, a primary, and routes nothing back to the controller: silent here over SSH and PostgreSQL
    const controller = "10.77.0.254/32";
    execFileSync("ip", ["-n", "pgr-pg1", "route", "replace", "prohibit", controller]);
    try {
      dev.editCluster((c) => {
        c.leader = "pg2";
        Object.assign(
          c.hosts.find((h) => h.name === "pg1")!,
          { down: true, fenced: true },
        );
      });
      const refused = dev.run(["preview"]);
      assert.notEqual(refused.code, 0, "a host stated fenced that the members find a primary is not taken at its word");
      assert.match(
        refused.stdout + refused.stderr,
        /pg-replication:clusters\[0\]\.hosts\[0\]\.fenced: is true, but pg1's PostgreSQL at 10\.77\.0\.11:5432 answers pg2 and pg3 as a primary \(this machine cannot reach it\)/,
      );
      const up = dev.run(["up", "--yes", "--skip-preview"]);
      assert.notEqual(up.code, 0, "nor by an up");
      assert.ok(!isPrimary("pg2"), "pg2 was not promoted");
    } finally {
      execFileSync("ip", ["-n", "pgr-pg1", "route", "del", "prohibit", controller]);
      dev.editCluster((c) => {
        c.leader = "pg1";
        const pg1 = c.hosts.find((h) => h.name === "pg1")!;
        delete pg1.down;
        delete pg1.fenced;
      });
    }
    assert.ok(isPrimary("pg1"), "pg1 still leads");
    for (const m of ["pg2", "pg3"]) await eventually(`${m} streams from pg1`, () => streamingFrom(m, "pg1"), 60);
    const converged = dev.run(["preview", "--expect-no-changes"]);
    assert.equal(converged.code, 0, converged.stdout + converged.stderr);
  });

  it("keeps an application on libpq writing through a switchover there and back and a failover, losing no acknowledged write", async () => {
    const { conninfo, password } = prepareLibpqWriter(dev);
    assert.match(conninfo, /target_session_attrs='read-write'/);
    assert.doesNotMatch(conninfo, /password/);
    const gaps: string[] = [];
    try {
      for (const [round, [to, failover]] of (
        [
          ["pg2", false],
          ["pg1", false],
          ["pg2", true],
        ] as const
      ).entries()) {
        // ids of its own: a writer reusing the one before's would be refused them (the primary key) and read as a gap
        const writer = new LibpqWriter(conninfo, password, 50, 1 + round * 1_000_000);
        writer.start();
        await sleep(1000);
        dev.editCluster((c) => {
          c.leader = to;
          if (failover) c.hosts.find((h) => h.name === "pg1")!.down = true;
        });
        const started = Date.now();
        await dev.upAsync();
        const upSeconds = (Date.now() - started) / 1000;
        await sleep(1000);
        const acked = await writer.stop();
        assert.ok(acked.length > 0, "the writer wrote");
        assert.deepEqual(writer.lostOn(to), [], `every acknowledged write is on ${to}`);
        gaps.push(
          `${failover ? "failover" : "switchover"} to ${to}: longest gap ${writer.longestGap().toFixed(2)} s, pulumi up ${upSeconds.toFixed(1)} s`,
        );
        assert.ok(writer.ackedAt[writer.ackedAt.length - 1] > started, "the writer wrote again after the change");
      }
      process.stderr.write(`      ${gaps.join("\n      ")}\n`);
    } finally {
      await pg1LeadsAgain();
      removeLibpqWriter(dev);
    }
  });
});
