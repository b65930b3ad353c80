// scripts/passphrase.sh, run through bash: each stack decides by itself what its secrets open
// with, and only dev and sandbox-* fall back to the published sandbox passphrase. The Makefile's
// recipes that open a stack go through it.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const SANDBOX = "pg-replication-sandbox";

interface Decision {
  code: number;
  stderr: string;
  /** the PULUMI_CONFIG_PASSPHRASE* variables after sourcing */
  passphrases: Record<string, string>;
}

function decide(stacks: string[], env: Record<string, string> = {}): Decision {
  const r = spawnSync(
    "bash",
    ["-c", 'set -euo pipefail; source scripts/passphrase.sh "$@"; env -0', "passphrase.sh", ...stacks],
    // stdin not a socket: bash would read ~/.bashrc, as when sshd runs it
    { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const passphrases = Object.fromEntries(
    r.stdout
      .split("\0")
      .filter((l) => l.startsWith("PULUMI_CONFIG_PASSPHRASE"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  return { code: r.status ?? -1, stderr: r.stderr, passphrases };
}

function assertRefused(d: Decision, stack: string): void {
  assert.notEqual(d.code, 0);
  assert.deepEqual(d.passphrases, {});
  const lines = d.stderr.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, d.stderr);
  assert.match(lines[0], new RegExp(`^stack ${stack}: set PULUMI_CONFIG_PASSPHRASE_${stack.toUpperCase().replace(/[^A-Z0-9]/g, "_")} or`));
  assert.match(lines[0], /pulumi stack change-secrets-provider --stack \S+ "awskms:\/\//);
}

describe("scripts/passphrase.sh", () => {
  it("gives dev, alone, the sandbox passphrase, for the CLI too", () => {
    assert.deepEqual(decide(["dev"]).passphrases, { PULUMI_CONFIG_PASSPHRASE: SANDBOX, PULUMI_CONFIG_PASSPHRASE_DEV: SANDBOX });
  });

  it("gives every sandbox-* stack of a run the sandbox passphrase, each its own variable", () => {
    assert.deepEqual(decide(["sandbox-staging", "sandbox-production"]).passphrases, {
      PULUMI_CONFIG_PASSPHRASE_SANDBOX_STAGING: SANDBOX,
      PULUMI_CONFIG_PASSPHRASE_SANDBOX_PRODUCTION: SANDBOX,
    });
  });

  for (const stack of ["staging", "production", "devel", "my-sandbox-staging", "sandbox"])
    it(`refuses ${stack} without a passphrase, in one line saying how to set one`, () => {
      assertRefused(decide([stack]), stack);
    });

  it("refuses a run of several stacks when one has no passphrase, whatever the others get", () => {
    assertRefused(decide(["dev", "production"]), "production");
    assertRefused(decide(["staging", "production"], { PULUMI_CONFIG_PASSPHRASE_STAGING: "s" }), "production");
  });

  it("takes an empty passphrase for none (a CI secret that is not set reads as empty)", () => {
    assertRefused(decide(["production"], { PULUMI_CONFIG_PASSPHRASE_PRODUCTION: "", PULUMI_CONFIG_PASSPHRASE: "" }), "production");
  });

  it("uses the operator's PULUMI_CONFIG_PASSPHRASE or _FILE for any stack", () => {
    assert.deepEqual(decide(["production"], { PULUMI_CONFIG_PASSPHRASE: "theirs" }).passphrases, {
      PULUMI_CONFIG_PASSPHRASE: "theirs",
      PULUMI_CONFIG_PASSPHRASE_PRODUCTION: "theirs",
    });
    assert.deepEqual(decide(["staging"], { PULUMI_CONFIG_PASSPHRASE_FILE: "/run/staging" }).passphrases, {
      PULUMI_CONFIG_PASSPHRASE_FILE: "/run/staging",
      PULUMI_CONFIG_PASSPHRASE_FILE_STAGING: "/run/staging",
    });
  });

  it("gives each stack of one run its own passphrase, and no passphrase for all", () => {
    const d = decide(["dev", "staging", "production"], {
      PULUMI_CONFIG_PASSPHRASE_STAGING: "s",
      PULUMI_CONFIG_PASSPHRASE_FILE_PRODUCTION: "/run/production",
    });
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(d.passphrases, {
      PULUMI_CONFIG_PASSPHRASE_DEV: SANDBOX,
      PULUMI_CONFIG_PASSPHRASE_STAGING: "s",
      PULUMI_CONFIG_PASSPHRASE_FILE_PRODUCTION: "/run/production",
    });
  });

  it("needs no passphrase for a stack whose file names a KMS or Vault secrets provider", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgr-passphrase-"));
    fs.writeFileSync(path.join(dir, "Pulumi.vaulted.yaml"), "secretsprovider: hashivault://pg-replication\nconfig: {}\n");
    fs.writeFileSync(path.join(dir, "Pulumi.salted.yaml"), "secretsprovider: passphrase\nconfig: {}\n");
    const d = decide(["vaulted"], { PGR_PROJECT_DIR: dir });
    assert.equal(d.code, 0, d.stderr);
    assert.deepEqual(d.passphrases, {});
    assertRefused(decide(["salted"], { PGR_PROJECT_DIR: dir }), "salted");
  });
});

describe("the Makefile and the sandbox passphrase", () => {
  const makefile = fs.readFileSync(path.join(ROOT, "Makefile"), "utf8");
  const recipe = (target: string) => (new RegExp(`^${target}:[^\\n]*\\n((?:\\t[^\\n]*\\n)+)`, "m").exec(makefile)?.[1] ?? "").trim();

  it("names the sandbox passphrase nowhere: scripts/passphrase.sh alone falls back to it", () => {
    assert.doesNotMatch(makefile, new RegExp(SANDBOX.replace(/-/g, "\\-") + "(?!/)"));
  });

  for (const target of ["status", "pr-preview", "up", "promote"])
    it(`${target} decides its stacks' passphrases with scripts/passphrase.sh before it runs anything`, () => {
      const lines = recipe(target);
      const decided = lines.indexOf("$(ENV) source scripts/passphrase.sh ");
      const runs = Math.min(...["node ", "pulumi ", "toolchain/build.sh"].map((w) => lines.indexOf(w)).filter((i) => i >= 0));
      assert.ok(decided >= 0 && decided < runs, lines);
    });

  it("make status STACK=production stops without a passphrase, in one line", () => {
    const r = spawnSync("make", ["-s", "status", "STACK=production"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    assert.notEqual(r.status, 0);
    const lines = r.stderr.split("\n").filter((l) => l && !/^make: \*\*\*/.test(l));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^stack production: set PULUMI_CONFIG_PASSPHRASE_PRODUCTION or PULUMI_CONFIG_PASSPHRASE/);
  });
});
