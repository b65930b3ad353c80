import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ROOT_CERT_COMMAND,
  RUN_SCRIPT_AS_ROOT,
  RUN_SQL_AS_POSTGRES,
  passfileCommand,
  psqlAsPostgres,
  removeFileCommand,
} from "../../../render/sshCommands";
import { probeScript } from "../../../observe/hosts";
import { renderReachScript } from "../../../observe/sourceReach";

/** A folder with a fake sudo that records who it was asked to run as, then runs the command as the caller. */
function fakeSudo(dir: string): string {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, "sudo"),
    `#!/bin/sh\nuser=root\nwhile [ $# -gt 0 ]; do case $1 in -n) shift ;; -u) user=$2; shift 2 ;; *) break ;; esac; done\necho "$user" >> ${dir}/sudo-users\nexec "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

describe("the SSH commands of the host steps", () => {
  it("give psql a database name that reads like connection settings as a name: it connects where it would have", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-dbname-"));
    try {
      for (const db of ["host=/nowhere-b", "postgresql:///app?host=/nowhere-b"]) {
        let err = "";
        try {
          execFileSync("sh", ["-c", `${psqlAsPostgres(db, "-w -X -A -t")} -c 'select 1'`], {
            env: { ...process.env, PATH: `${fakeSudo(fs.mkdtempSync(path.join(dir, "s-")))}:${process.env.PATH}`, PGHOST: "/nowhere-a" },
            stdio: ["ignore", "pipe", "pipe"],
          });
        } catch (e) {
          err = String((e as { stderr: Buffer }).stderr);
        }
        assert.match(err, /"\/nowhere-a\/\.s\.PGSQL\.5432"/, `${db}: ${err}`);
        assert.doesNotMatch(err, /nowhere-b/, db);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("write the passfile as postgres, into a new private file renamed into place: a link planted at its name leads nowhere", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-passfile-"));
    try {
      const bin = fakeSudo(dir);
      const passfile = path.join(dir, ".pg-replication.pgpass");
      const victim = path.join(dir, "victim");
      fs.writeFileSync(victim, "root only\n");
      // what a database superuser could plant with COPY … TO PROGRAM, as postgres
      fs.symlinkSync(victim, `${passfile}.new`);
      fs.symlinkSync(victim, passfile);
      execFileSync("sh", ["-c", passfileCommand(passfile)], {
        input: "h:5432:*:u:pw\n",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      });
      assert.equal(fs.readFileSync(victim, "utf8"), "root only\n", "nothing written through a link");
      assert.ok(!fs.lstatSync(passfile).isSymbolicLink(), "the link at the passfile's name is replaced");
      assert.equal(fs.readFileSync(passfile, "utf8"), "h:5432:*:u:pw\n");
      assert.equal(fs.statSync(passfile).mode & 0o777, 0o600);
      assert.deepEqual(
        fs.readFileSync(path.join(dir, "sudo-users"), "utf8").trim().split("\n"),
        ["postgres"],
        "run as postgres, never root",
      );
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.startsWith(".pg-replication.pgpass.")),
        [".pg-replication.pgpass.new"],
        "no temporary file left (the planted link is left alone)",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("say why a passfile is written again in a comment of plain words", () => {
    assert.match(passfileCommand("/p", "observed: it differs; rm -rf /"), / # observed: it differs rm -rf $/);
  });

  it("are plain POSIX sh, as the login shell that runs them may be dash: no bash-only syntax", () => {
    const commands = {
      RUN_SCRIPT_AS_ROOT,
      RUN_SQL_AS_POSTGRES,
      ROOT_CERT_COMMAND,
      passfile: passfileCommand("/var/lib/postgresql/.pg-replication.pgpass", "observed"),
      remove: removeFileCommand("/var/lib/postgresql/.pg-replication-source.pgpass"),
      probe: probeScript(["pgr_admin", "replicator"]),
      reach: renderReachScript({ host: "pg1", address: "10.77.0.10", port: 5432, database: "appdb", user: "u", sslmode: "require" }),
    };
    for (const [name, command] of Object.entries(commands)) {
      execFileSync("sh", ["-n", "-c", command]);
      assert.doesNotMatch(
        command,
        /(^|[;&|(]\s*)\[\[\s|\$\{[A-Za-z_]+\/|\$\{[A-Za-z_]+:[0-9]|<<<|<\(|>\(|\$'|(^|[;&|(]\s*)(function|source)\s|&>/,
        name,
      );
    }
  });
});
