// make promote FROM=staging TO=production: what ran on FROM goes to TO, and only that.
// 1. FROM's last update succeeded at this very commit (its update history), from a clean checkout;
// 2. FROM is healthy now: every standby streaming (read live on each leader), lag under
//    PGR_MAX_LAG_BYTES, no migration in the middle of its cutover;
// 3. prints the configuration TO differs in, beyond hosts, addresses and secrets;
// 4. previews TO with the policy pack (mandatory on production): what the report counts as
//    destructive (data-bearing deletes or replaces, standby rebuilds, leader changes, cutovers)
//    stops here unless ALLOW_DATA_LOSS=1;
// 5. updates TO with the policy pack, constrained to the plan of that preview (or of one a person
//    reviewed: PLAN_ONLY=1 PLAN=file saves it, PLAN=file applies it), then previews TO again: it
//    must show no change.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigMap, EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { policyOptions } from "../policy/options";
import { takeStackPassphrases } from "../lib/stackPassphrase";
import { configDifferences, destructive, historyProblem } from "./gates";
import { healthOf } from "./health";
import { ResourceChange, resourceChange } from "../report/markdown";

const ROOT = process.env.PGR_PROJECT_DIR ?? path.resolve(__dirname, "..");
const say = (line: string) => process.stdout.write(`promote: ${line}\n`);

class Refused extends Error {}

// FROM and TO each open their secrets with their own passphrase (scripts/passphrase.sh decided them)
const passphraseOf = takeStackPassphrases();

function plainConfig(c: ConfigMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v.secret) continue;
    try {
      out[k] = JSON.parse(v.value);
    } catch {
      out[k] = v.value;
    }
  }
  return out;
}

async function promote(fromName: string, toName: string): Promise<void> {
  const head = execFileSync("git", ["-C", ROOT, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  if (execFileSync("git", ["-C", ROOT, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim())
    throw new Refused("the checkout has uncommitted changes: promote a commit");
  const from = await LocalWorkspace.selectStack({ stackName: fromName, workDir: ROOT }, { envVars: passphraseOf(fromName) });
  // a TO never deployed in this backend (a new environment) is created: its first update is the promotion
  const to = await LocalWorkspace.createOrSelectStack({ stackName: toName, workDir: ROOT }, { envVars: passphraseOf(toName) });

  const history = await from.history(20);
  const gate = historyProblem(fromName, history, head);
  if (gate) throw new Refused(gate);
  say(`${fromName}'s last update succeeded at ${head.slice(0, 12)}, this commit`);
  const sick = await healthOf(from);
  if (sick.length > 0) throw new Refused(`${fromName} is not healthy:\n  ${sick.join("\n  ")}`);
  say(`${fromName} is healthy: every standby streaming`);

  const diff = configDifferences(fromName, plainConfig(await from.getAllConfig()), toName, plainConfig(await to.getAllConfig()));
  say(
    diff.length === 0
      ? `${toName}'s configuration is ${fromName}'s, beyond hosts, addresses and secrets`
      : `${toName}'s configuration differs from ${fromName}'s in:`,
  );
  for (const d of diff) process.stdout.write(`  ${d}\n`);

  // the plan a person reviewed is the plan applied: PLAN_ONLY=1 saves it (to PLAN) and stops;
  // PLAN=<file> alone applies that file; neither: this run's preview is the plan
  const reviewed = process.env.PLAN && process.env.PLAN_ONLY !== "1" ? process.env.PLAN : undefined;
  let plan: string | undefined = process.env.PLAN ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pgr-plan-")), "plan.json");
  if (reviewed) {
    if (!fs.existsSync(reviewed)) throw new Refused(`no plan at ${reviewed}: make it with PLAN_ONLY=1 first`);
    say(`${toName}: applying the reviewed plan ${reviewed}`);
  } else {
    const imports = await previewInto(to, plan);
    if (process.env.PLAN_ONLY === "1") {
      if (imports.length > 0)
        throw new Refused(
          `${toName}'s preview imports ${imports.join(", ")}: an update plan cannot constrain an import; promote once without PLAN (an import changes nothing on the hosts)`,
        );
      say(`${toName}: plan saved to ${plan}; apply exactly it with PLAN=${plan}`);
      return;
    }
    if (imports.length > 0) {
      // Pulumi's plans do not cover an import (the provider's defaults appear only once imported)
      say(`${toName}: the preview imports ${imports.join(", ")}; this update is not constrained by a plan`);
      plan = undefined;
    }
  }

  const up = await to.up({ ...policyOptions(toName), ...(plan ? { plan } : {}), onOutput: (o) => process.stderr.write(o) });
  say(`${toName} updated: ${JSON.stringify(up.summary.resourceChanges)}`);
  const again = await to.preview({ ...policyOptions(toName), expectNoChanges: true });
  say(`${toName} converged: ${JSON.stringify(again.changeSummary)}`);
}

/** TO's preview with the policy pack, its plan saved; refuses data loss unless allowed. Returns what it imports. */
async function previewInto(to: Stack, plan: string): Promise<string[]> {
  const changes: ResourceChange[] = [];
  const onEvent = (e: EngineEvent) => {
    const m = e.resourcePreEvent?.metadata;
    if (m) changes.push(resourceChange(m));
  };
  const preview = await to.preview({ ...policyOptions(to.name), onEvent, plan }).catch((e: Error) => {
    throw new Refused(
      `${to.name}'s preview failed:\n${e.message
        .split("\n")
        .filter((l) => /error|violation|\[mandatory\]/i.test(l))
        .slice(0, 12)
        .join("\n")}`,
    );
  });
  const loss = destructive(to.name, changes);
  if (loss.length > 0 && process.env.ALLOW_DATA_LOSS !== "1")
    throw new Refused(`${to.name}'s preview is destructive (set ALLOW_DATA_LOSS=1 to go on):\n  ${loss.join("\n  ")}`);
  say(`${to.name} preview: ${JSON.stringify(preview.changeSummary)}`);
  return changes.filter((c) => c.op === "import").map((c) => c.name);
}

async function main(): Promise<void> {
  const [from, to] = [process.env.FROM, process.env.TO];
  if (!from || !to) {
    process.stderr.write("usage: make promote FROM=<stack> TO=<stack>\n");
    process.exitCode = 2;
    return;
  }
  try {
    await promote(from, to);
  } catch (e) {
    process.stderr.write(`promote: refused: ${(e as Error).message}\n`);
    process.exitCode = e instanceof Refused ? 3 : 1;
  }
}

void main();
