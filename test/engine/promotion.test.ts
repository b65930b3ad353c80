// Pull-request report, promotion and policies through the real engine, on two sandbox stacks
// standing for staging and production on hosts of their own (stg1-stg2, prod1-prod2), in a copy
// of the project that is a git checkout (the promotion gates on the commit an update ran at).
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { dump, load } from "js-yaml";
import { policyOptions } from "../../policy/options";
import { DEV_PASSPHRASE } from "../support/devStack";
import { EngineProject } from "../support/engine";
import { SANDBOX_DIR, psql, sshOk } from "../support/sandbox";

const ROOT = path.resolve(__dirname, "../..");
const STAGING = "sandbox-staging";
const PRODUCTION = "sandbox-production";
const PREVIEW_PASSWORD = "preview-only-reads";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A preview with the policy pack, as the report and promotion run it (mandatory on a production stack). */
function previewWithPolicies(project: EngineProject, stack: string) {
  const { policyPacks, policyPackConfigs } = policyOptions(stack);
  return project.run([
    "preview",
    "--stack",
    stack,
    ...policyPacks.flatMap((p) => ["--policy-pack", p]),
    ...policyPackConfigs.flatMap((c) => ["--policy-pack-config", c]),
  ]);
}

describe("pull-request report, promotion and policies on two stacks", function () {
  this.timeout(1_800_000);
  const project = new EngineProject("pg-replication", DEV_PASSPHRASE);
  const git = (...args: string[]) => execFileSync("git", ["-C", project.dir, ...args], { encoding: "utf8" }).trim();
  const commit = (message: string) => {
    git("add", "-A");
    git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-q", "--allow-empty", "-m", message);
  };
  const editConfig = (stack: string, edit: (c: Record<string, unknown>) => void) => {
    const file = project.stackFile(stack);
    const doc = load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    fs.writeFileSync(file, dump(doc, { lineWidth: 200 }));
  };
  const main = (c: Record<string, unknown>) => (c["pg-replication:clusters"] as Record<string, unknown>[])[0];
  const tool = (script: string, env: Record<string, string>) => {
    const r = spawnSync("node", ["-r", "ts-node/register/transpile-only", script], {
      cwd: ROOT,
      env: { ...project.env, ...env },
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
  };
  const promote = (env: Record<string, string> = {}) =>
    tool("promote/promote.ts", { FROM: STAGING, TO: PRODUCTION, PGR_PROJECT_DIR: project.dir, ...env });
  const report = () => tool("report/prPreview.ts", { STACKS: `${STAGING} ${PRODUCTION}`, PGR_PREVIEW_DIR: project.dir });
  const pgctl = (member: string, action: string) => sshOk(member, `cd / && sudo -n pg_ctlcluster 15 main ${action}`);

  before(() => {
    // hosts of their own, fresh: no role or data left by an earlier run
    for (const m of ["stg1", "stg2", "prod1", "prod2"])
      sshOk(
        m,
        "sudo -n pg_dropcluster 15 main --stop && sudo -n rm -rf /etc/postgresql/15/main && sudo -n pg_createcluster 15 main --start >/dev/null",
      );
    fs.writeFileSync(path.join(project.dir, ".gitignore"), "node_modules\n.state\n");
    for (const s of [STAGING, PRODUCTION]) {
      project.copyStackFile(s);
      project.initStack(s);
      project.setConfig(s, "pg-replication:previewPassword", PREVIEW_PASSWORD, true);
    }
    // production's backups are the refresh suite's (test/engine/refresh.test.ts): promotion is about the rest
    editConfig(PRODUCTION, (c) => delete main(c).backup);
    git("init", "-q");
    commit("the program");
    project.ok(["up", "--yes", "--stack", STAGING]);
  });
  after(() => project.dispose());

  it("streams stg2 from stg1 over TLS that checks stg1's certificate against the stack's CA (H1, sslmode verify-full)", () => {
    assert.match(psql("stg2", "select conninfo from pg_stat_wal_receiver where status = 'streaming'"), /sslmode='?verify-full/);
    assert.equal(
      psql("stg1", "select s.ssl from pg_stat_replication r join pg_stat_ssl s using (pid) where r.application_name = 'stg2'"),
      "t",
    );
  });

  it("asks the admin for its client certificate beside its password: the password alone, which a preview decrypts, is refused (C2)", () => {
    const password = project.ok(["config", "get", "adminPassword", "--stack", STAGING]).trim();
    const tls = path.join(SANDBOX_DIR, "tls");
    // a HOME of its own: no ~/.postgresql/postgresql.crt that libpq would send unasked
    const home = fs.mkdtempSync(path.join(project.dir, "home-"));
    const login = (files: string) =>
      spawnSync(
        "psql",
        [
          "-X",
          "-A",
          "-t",
          "-w",
          "-d",
          `host=10.77.0.21 dbname=postgres user=pgr_admin sslmode=verify-full sslrootcert=${tls}/ca.crt${files}`,
        ],
        { input: "select current_user", env: { ...process.env, PGPASSWORD: password, HOME: home }, encoding: "utf8" },
      );
    const alone = login("");
    assert.notEqual(alone.status, 0, alone.stdout);
    assert.match(alone.stderr, /connection requires a valid client certificate/);
    const withCertificate = login(` sslcert=${tls}/admin.crt sslkey=${tls}/admin.key`);
    assert.equal(withCertificate.status, 0, withCertificate.stderr);
    assert.equal(withCertificate.stdout.trim(), "pgr_admin");
  });

  it("refuses to promote what staging ran at another commit", () => {
    commit("a later commit");
    const r = promote();
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /sandbox-staging's last update ran at commit [0-9a-f]{12}, not at [0-9a-f]{12}/);
  });

  it("refuses to promote while a staging standby is down", async () => {
    project.ok(["up", "--yes", "--stack", STAGING]);
    pgctl("stg2", "stop");
    try {
      const r = promote();
      assert.equal(r.code, 3, r.out);
      assert.match(r.out, /sandbox-staging cluster main: standby stg2 is not connected, not streaming/);
    } finally {
      pgctl("stg2", "start");
    }
    for (
      let i = 0;
      i < 100 && !/streaming/.test(sshOk("stg1", "cd / && sudo -n -u postgres psql -X -A -t -c 'select state from pg_stat_replication'"));
      i++
    )
      await sleep(200);
  });

  it("promotes staging to production: the differences shown, the reviewed plan applied, production converged", () => {
    const plan = path.join(project.dir, ".state", "production-plan.json");
    const planned = promote({ PLAN: plan, PLAN_ONLY: "1" });
    assert.equal(planned.code, 0, planned.out);
    assert.match(planned.out, /sandbox-production: plan saved to/);
    assert.ok(fs.existsSync(plan));
    assert.equal(project.run(["stack", "output", "--stack", PRODUCTION]).stdout.includes("replicationState"), false, "nothing applied yet");
    const r = promote({ PLAN: plan });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /sandbox-production: applying the reviewed plan/);
    assert.match(r.out, /pg-replication:clusters\[0\]\.settings\.max_connections: sandbox-staging 120, sandbox-production 150/);
    assert.match(r.out, /pg-replication:protect: sandbox-staging \(unset\), sandbox-production true/);
    assert.match(r.out, /sandbox-production converged/);
    const state = project.outputs(PRODUCTION).replicationState as { main: { standbys: Record<string, { state: string }> } };
    assert.equal(state.main.standbys.prod2.state, "streaming");
    assert.match(project.ok(["stack", "export", "--stack", PRODUCTION]), /"protect": true/);
  });

  // the preview identity (what a pull request's preview holds), on staging as the last update left it
  const previewEnv = (password = PREVIEW_PASSWORD) => ({
    ...project.env,
    PGR_IDENTITY: "preview",
    PGR_PREVIEW_SSH_KEY_FILE: path.join(SANDBOX_DIR, "preview_ed25519"),
    PGR_PREVIEW_DB_PASSWORD: password,
    // no agent: the deploy key is nowhere in this environment
    SSH_AUTH_SOCK: "",
  });
  const asPreview = (args: string[], password?: string) => {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], { cwd: project.dir, env: previewEnv(password), encoding: "utf8" });
    return { code: r.status ?? -1, out: `${r.stdout}\n${r.stderr}` };
  };

  it("previews staging through the preview identity (what a pull request's preview holds): the hosts read, no change planned", () => {
    const r = asPreview(["preview", "--expect-no-changes", "--stack", STAGING]);
    assert.equal(r.code, 0, r.out);
    // the sandbox's previews run on the controller, which staging's adminAddresses admits (C2)
    assert.match(
      r.out,
      /needs attention: pg-replication:clusters\[0\]\.adminAddresses: 10\.77\.0\.254\/32 admits 10\.77\.0\.254, where this preview runs/,
    );
  });

  it("refuses a wrong preview password at preview, naming it", () => {
    const r = asPreview(["preview", "--stack", STAGING], "not-the-password");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /PGR_PREVIEW_DB_PASSWORD: pgr_preview does not log in on stg1/);
  });

  it("an up through the preview identity is refused by the hosts, and changes nothing", () => {
    editConfig(STAGING, (c) => (main(c).settings = { ...(main(c).settings as object), work_mem: "24MB" }));
    try {
      const r = asPreview(["up", "--yes", "--stack", STAGING]);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /unable to authenticate|permission denied|no supported methods remain|SSH_AUTH_SOCK/i);
      for (const m of ["stg1", "stg2"]) assert.doesNotMatch(sshOk(m, "cat /etc/postgresql/15/main/conf.d/pg-replication.conf"), /work_mem/);
    } finally {
      editConfig(STAGING, (c) => (main(c).settings = { max_connections: 120 }));
    }
  });

  it("the preview key runs the observation and nothing else", () => {
    const r = spawnSync(
      "ssh",
      [
        ...["-i", path.join(SANDBOX_DIR, "preview_ed25519"), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-F", "/dev/null"],
        ...["-o", `UserKnownHostsFile=${path.join(SANDBOX_DIR, "known_hosts")}`, "-l", "pgr-preview", "10.77.0.21"],
        "touch /tmp/pgr-preview-was-here; sudo -n id",
      ],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^memory_kib=\d+$/m);
    assert.match(r.stdout, /^roles=.*\bpgr_preview\b/m);
    assert.doesNotMatch(r.stdout, /uid=/);
    // stg1's /tmp is its own (sandbox/hosts/stg1/tmp), not the controller's
    assert.equal(fs.existsSync(path.join(SANDBOX_DIR, "hosts", "stg1", "tmp", "pgr-preview-was-here")), false);
  });

  it("previews from a runner outside adminAddresses that ssh.preview.from admits: nothing needs attention, and the key and role are refused elsewhere (C2)", () => {
    editConfig(STAGING, (c) => ((main(c).ssh as { preview: Record<string, unknown> }).preview.from = ["10.77.0.10/32"]));
    project.ok(["up", "--yes", "--stack", STAGING]);
    const serverLog = () => sshOk("stg1", "sudo -n cat /var/log/postgresql/postgresql-15-main.log");
    const logBefore = serverLog().length;
    // the runner: another machine on the hosts' network (here the network namespace of the sandbox's old host)
    const runner = spawnSync(
      "ip",
      ["netns", "exec", "pgr-old", "pulumi", "preview", "--expect-no-changes", "--non-interactive", "--stack", STAGING],
      { cwd: project.dir, env: previewEnv(), encoding: "utf8" },
    );
    const out = `${runner.stdout}\n${runner.stderr}`;
    assert.equal(runner.status, 0, out);
    assert.doesNotMatch(out, /needs attention/);
    // the pull request's machine never so much as tried the admin's login (the state is read as pgr_preview)
    // (a refused login is logged: no pg_hba.conf entry for host "10.77.0.10", user "pgr_admin")
    assert.doesNotMatch(serverLog().slice(logBefore), /user "pgr_admin"/);
    // from the controller, the key no longer logs in
    const fromAdmin = spawnSync(
      "ssh",
      [
        ...["-i", path.join(SANDBOX_DIR, "preview_ed25519"), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-F", "/dev/null"],
        ...["-o", `UserKnownHostsFile=${path.join(SANDBOX_DIR, "known_hosts")}`, "-l", "pgr-preview", "10.77.0.21", "true"],
      ],
      { encoding: "utf8" },
    );
    assert.notEqual(fromAdmin.status, 0, fromAdmin.stdout);
    assert.match(fromAdmin.stderr, /Permission denied/);
    assert.match(
      sshOk("stg1", "sudo -n cat /etc/postgresql/15/main/pg_hba.conf"),
      /^hostssl\s+postgres\s+pgr_preview\s+10\.77\.0\.10\/32\s/m,
    );
    assert.doesNotMatch(sshOk("stg1", "sudo -n cat /etc/postgresql/15/main/pg_hba.conf"), /pgr_preview\s+10\.77\.0\.254/);
  });

  it("refuses to promote when staging's last update failed", () => {
    // a value only the host can refuse (no such time zone there): one the catalogue refuses would stop the preview instead
    editConfig(STAGING, (c) => (main(c).settings = { max_connections: 120, timezone: "Mars/Olympus_Mons" }));
    commit("a bad setting");
    assert.notEqual(project.run(["up", "--yes", "--stack", STAGING]).code, 0);
    const r = promote();
    assert.equal(r.code, 3, r.out);
    assert.match(r.out, /sandbox-staging's last update failed/);
    editConfig(STAGING, (c) => (main(c).settings = { max_connections: 120 }));
    commit("the setting fixed");
  });

  it("reports a config change as exactly that change on each stack", () => {
    for (const s of [STAGING, PRODUCTION]) editConfig(s, (c) => (main(c).settings = { ...(main(c).settings as object), work_mem: "16MB" }));
    const r = report();
    assert.equal(r.code, 0, r.out);
    for (const s of [STAGING, PRODUCTION]) {
      const section = r.stdout.split(`### \`${s}\``)[1].split("### `")[0];
      const changed = section.split("\n").filter((l) => /^[+-] /.test(l));
      assert.ok(changed.length >= 2, section);
      assert.deepEqual(
        changed.filter((l) => !/work_mem/.test(l)),
        [],
        `${s}: only work_mem changes`,
      );
    }
    assert.match(r.stdout, /nothing that can cost data or availability/);
  });

  it("lists a standby rebuild under needs attention", () => {
    editConfig(STAGING, (c) => ((main(c).hosts as Record<string, unknown>[])[1].rebuild = "2026-11-27"));
    const r = report();
    assert.match(r.stdout.split("| stack |")[0], /`sandbox-staging` main-stg2-follow: standby rebuild/);
  });

  it("refuses a production without a standby or with unsafe sslmode: the policies are mandatory there", () => {
    editConfig(PRODUCTION, (c) => {
      main(c).hosts = (main(c).hosts as unknown[]).slice(0, 1);
      main(c).sslmode = "disable";
      delete main(c).adminCertificate; // refused without TLS before any policy runs
      c["pg-replication:protect"] = false;
    });
    const r = previewWithPolicies(project, PRODUCTION);
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /\[mandatory\]\s+production-standby-and-protect[\s\S]*cluster main has no standby: production needs at least one/);
    assert.match(out, /Role main-replication is not protected: set pg-replication:protect: true on production/);
    assert.match(out, /\[mandatory\]\s+client-sslmode-require[\s\S]*connects with sslmode disable: at least require/);
  });
});

describe("the policy pack, each policy broken once", function () {
  this.timeout(600_000);
  const project = new EngineProject("policy-violations", "policy-test");
  before(() => {
    fs.copyFileSync(path.join(ROOT, "test/fixtures/policyViolations/index.ts"), path.join(project.dir, "index.ts"));
    project.initStack("fixture-production");
  });
  after(() => project.dispose());

  const cases: [string, RegExp][] = [
    ["pg-hba-no-trust-or-md5", /pg_hba line "host all all 10\.0\.0\.0\/8 trust" uses trust: use scram-sha-256/],
    ["passwords-are-secrets", /a host step's stdin carries a password but is not a secret/],
    ["replication-role-least-privilege", /replication role pgr_replication has superuser: it must stream WAL and nothing else/],
    ["production-standby-and-protect", /Role replication is not protected/],
    ["client-sslmode-require", /postgresql provider pg connects with sslmode prefer: at least require/],
  ];
  for (const [policy, message] of cases) {
    it(`${policy}: the preview fails with its own message`, () => {
      project.setConfig("fixture-production", "violate", policy);
      const r = previewWithPolicies(project, "fixture-production");
      const out = r.stdout + r.stderr;
      assert.notEqual(r.code, 0, out);
      assert.match(out, new RegExp(`\\[mandatory\\]\\s+${policy}\\s`));
      assert.match(out, message);
      for (const [other] of cases.filter(([p]) => p !== policy))
        assert.doesNotMatch(out, new RegExp(`\\]\\s+${other}\\s`), `only ${policy}`);
    });
  }
  it("a program that breaks none passes", () => {
    project.setConfig("fixture-production", "violate", "none");
    const r = previewWithPolicies(project, "fixture-production");
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
