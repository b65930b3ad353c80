// The CI workflows, parsed: which job sees which secret. A pull request's job runs the pull
// request's own code, so it gets the preview identity and staging's passphrase alone, and never
// runs for a fork; the deploy key and production's passphrase reach only jobs behind an
// environment (its reviewers), and production is planned and applied behind the same one.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";

const ROOT = path.resolve(__dirname, "../../..");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

interface Job {
  if?: string;
  "runs-on": string | string[];
  environment?: string | { name: string };
  needs?: string | string[];
  permissions?: unknown;
  env?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const read = (file: string) => ({
  text: fs.readFileSync(path.join(ROOT, ".github/workflows", file), "utf8"),
  doc: load(fs.readFileSync(path.join(ROOT, ".github/workflows", file), "utf8")) as Workflow,
});
const prPreview = read("pr-preview.yml");
const deploy = read("deploy.yml");
const allJobs = [...Object.entries(prPreview.doc.jobs), ...Object.entries(deploy.doc.jobs)];

const environmentOf = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);
const secretsOf = (job: Job) => new Set([...JSON.stringify(job).matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]));
const runsOf = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const stackSsh = (stack: string) => {
  const doc = load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, { ssh: { privateKeyPath?: string; preview?: { publicKeyPath: string } } }[]>;
  };
  return doc.config["pg-replication:clusters"][0].ssh;
};

// PULUMI_CONFIG_PASSPHRASE: one passphrase for every stack, production's included
const DEPLOY_ONLY = ["DEPLOY_SSH_KEY", "PULUMI_CONFIG_PASSPHRASE_PRODUCTION", "PULUMI_CONFIG_PASSPHRASE"];
const PREVIEW_IDENTITY = ["PREVIEW_SSH_KEY", "PREVIEW_DB_PASSWORD", "PULUMI_CONFIG_PASSPHRASE_STAGING"];

describe("CI workflows: who sees which secret", () => {
  it("names every secret it uses: no secrets[...], toJSON(secrets) or inherited secrets", () => {
    for (const { text } of [prPreview, deploy]) assert.doesNotMatch(text, /secrets\s*\[|toJSON\(\s*secrets|secrets:\s*inherit/);
  });

  it("gives no stack one passphrase for all: each secret is one stack's", () => {
    for (const [name, job] of allJobs) assert.ok(!secretsOf(job).has("PULUMI_CONFIG_PASSPHRASE"), name);
  });

  it("gives a deploy key or production's passphrase to no job without an environment", () => {
    for (const [name, job] of allJobs)
      if (!environmentOf(job)) for (const s of DEPLOY_ONLY) assert.ok(!secretsOf(job).has(s), `${name} sees ${s}`);
  });

  it("gives production's passphrase only to production's jobs, the deploy key only to staging's and production's", () => {
    for (const [name, job] of allJobs) {
      const env = environmentOf(job);
      if (secretsOf(job).has("PULUMI_CONFIG_PASSPHRASE_PRODUCTION")) assert.equal(env, "production", name);
      if (secretsOf(job).has("DEPLOY_SSH_KEY")) assert.ok(env === "staging" || env === "production", name);
    }
  });

  it("puts each environment's deploy key into an agent of the job's own, never a file, and ends it whatever happened", () => {
    for (const [name, job] of Object.entries(deploy.doc.jobs)) {
      const env = environmentOf(job);
      assert.ok(env, `${name} has no environment`);
      assert.equal(stackSsh(env).privateKeyPath, undefined, `${env}'s stack takes its key from the agent`);
      assert.match(runsOf(job), /ci\/deploy-agent\.sh start DEPLOY_SSH_KEY\b/, name);
      assert.doesNotMatch(runsOf(job), /key-file\.sh DEPLOY_SSH_KEY/, name);
      assert.ok(
        job.steps.some((s) => s.if === "always()" && s.run?.includes("ci/deploy-agent.sh stop")),
        `${name} leaves its agent running`,
      );
    }
  });

  it("previews staging as a stack with a preview identity", () => {
    assert.ok(stackSsh("staging").preview?.publicKeyPath, "staging names its preview identity's public key");
  });
});

describe("CI workflows: the pull request's preview", () => {
  const entries = Object.entries(prPreview.doc.jobs);

  it("runs on a runner no deploy job runs on: what the pull request's code leaves behind meets no deploy key", () => {
    const labels = (job: Job) => new Set([job["runs-on"]].flat().filter((l) => l !== "self-hosted"));
    const preview = labels(prPreview.doc.jobs.preview);
    assert.ok(preview.size > 0, "the preview job names its runner");
    for (const [name, job] of Object.entries(deploy.doc.jobs)) {
      const own = labels(job);
      assert.ok(own.size > 0, `${name} names its runner`);
      for (const l of own) assert.ok(!preview.has(l), `${name} shares the runner label ${l} with the pull request's job`);
    }
  });

  it("never runs for a pull request from a fork", () => {
    for (const [name, job] of entries)
      assert.match(job.if ?? "", /github\.event\.pull_request\.head\.repo\.full_name\s*==\s*github\.repository/, name);
  });

  it("sees the preview identity and staging's passphrase, nothing more", () => {
    for (const [name, job] of entries) {
      assert.equal(environmentOf(job), undefined, name);
      const extra = [...secretsOf(job)].filter((s) => ![...PREVIEW_IDENTITY, "PULUMI_BACKEND_URL", "GITHUB_TOKEN"].includes(s));
      assert.deepEqual(extra, [], name);
      for (const s of PREVIEW_IDENTITY) assert.ok(secretsOf(job).has(s), `${name} lacks ${s}`);
    }
  });

  it("hands the program the preview identity: PGR_IDENTITY, PGR_PREVIEW_SSH_KEY_FILE (a 0600 file), PGR_PREVIEW_DB_PASSWORD", () => {
    const [, job] = entries[0];
    const envs = [job.env ?? {}, ...job.steps.map((s) => s.env ?? {})];
    assert.ok(envs.some((e) => e.PGR_IDENTITY === "preview"));
    assert.ok(envs.some((e) => e.PGR_PREVIEW_DB_PASSWORD === "${{ secrets.PREVIEW_DB_PASSWORD }}"));
    assert.match(
      runsOf(job),
      /ci\/key-file\.sh PREVIEW_SSH_KEY "\$RUNNER_TEMP\/(\S+)"\n.*PGR_PREVIEW_SSH_KEY_FILE=\$RUNNER_TEMP\/\1".*\$GITHUB_ENV/,
    );
  });

  it("previews staging alone: production's preview is deploy.yml's production-plan", () => {
    const [, job] = entries[0];
    const stacks = [job.env?.STACKS, ...job.steps.map((s) => s.env?.STACKS)].filter(Boolean).join(" ");
    assert.equal(stacks, "staging");
  });

  it("asks for reading the code and writing its comment, nothing more", () => {
    assert.deepEqual(prPreview.doc.permissions, { contents: "read", "pull-requests": "write" });
  });
});

describe("CI workflows: the deployment", () => {
  const jobs = deploy.doc.jobs;

  it("plans production behind the production environment, and applies exactly that plan behind it", () => {
    assert.equal(environmentOf(jobs.staging), "staging");
    assert.equal(environmentOf(jobs["production-plan"]), "production");
    assert.equal(environmentOf(jobs.production), "production");
    assert.deepEqual([jobs.production.needs].flat(), ["production-plan"]);
    const plan = /make promote FROM=staging TO=production PLAN="([^"]+)" PLAN_ONLY=1/.exec(runsOf(jobs["production-plan"]));
    assert.ok(plan, "production-plan saves a plan");
    const apply = runsOf(jobs.production);
    assert.ok(apply.includes(`make promote FROM=staging TO=production PLAN="${plan[1]}"`), apply);
    assert.doesNotMatch(apply, /PLAN_ONLY/);
    const uploaded = jobs["production-plan"].steps.find((s) => s.uses?.startsWith("actions/upload-artifact"));
    const downloaded = jobs.production.steps.find((s) => s.uses?.startsWith("actions/download-artifact"));
    assert.equal(downloaded?.with?.name, uploaded?.with?.name);
  });

  it("asks for reading the code alone", () => {
    assert.deepEqual(deploy.doc.permissions, { contents: "read" });
    for (const [name, job] of Object.entries(jobs)) assert.equal(job.permissions, undefined, name);
  });
});

describe("CI workflows: checkouts", () => {
  it("leaves no token in the checkout (persist-credentials: false)", () => {
    for (const [name, job] of allJobs)
      for (const s of job.steps.filter((x) => x.uses?.startsWith("actions/checkout")))
        assert.equal(s.with?.["persist-credentials"], false, `${name}: ${s.uses}`);
  });
});
