// make pr-preview [STACKS="dev staging"]: previews each stack of this repository with the
// Automation API and prints the Markdown report for a pull-request comment. Exits 1 when a
// preview failed (the report says which stack and why). Each preview is bounded in time.
import * as fs from "node:fs";
import * as path from "node:path";
import { EngineEvent, LocalWorkspace } from "@pulumi/pulumi/automation";
import { policyOptions } from "../policy/options";
import { takeStackPassphrases } from "../lib/stackPassphrase";
import { StackPreview, renderReport, resourceChange } from "./markdown";

// the project to preview: this repository, or PGR_PREVIEW_DIR (a copy of it, for the tests)
const ROOT = process.env.PGR_PREVIEW_DIR ?? path.resolve(__dirname, "..");
const TIMEOUT_MS = Number(process.env.PGR_PREVIEW_TIMEOUT_MS ?? 300_000);

function stacksOfRepo(): string[] {
  return fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort();
}

const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

// each stack opens its secrets with its own passphrase (scripts/passphrase.sh decided them)
const passphraseOf = takeStackPassphrases();

async function previewStack(stackName: string): Promise<StackPreview> {
  const result: StackPreview = { stack: stackName, counts: {}, changes: [], policies: [], unchanged: [], notes: [] };
  const errors: string[] = [];
  try {
    // a stack never deployed in this backend is previewed as new: everything it would create
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir: ROOT }, { envVars: passphraseOf(stackName) });
    const onEvent = (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (m && m.type !== "pulumi:pulumi:Stack") {
        const change = resourceChange(m);
        if (m.op !== "same") result.changes.push(change);
        else result.unchanged?.push(change);
      }
      const p = e.policyEvent;
      if (p)
        result.policies?.push(
          `[${p.enforcementLevel}] ${p.policyName}${p.resourceUrn ? ` (${nameOf(p.resourceUrn)})` : ""}: ${p.message.trim().split("\n").pop()}`,
        );
      const d = e.diagnosticEvent;
      const note = d && d.severity === "warning" ? /needs attention: (.*)/.exec(d.message)?.[1] : undefined;
      if (note) result.notes?.push(note.trim());
      if (d && d.severity === "error" && !/^update failed|preview failed/.test(d.message.trim())) errors.push(d.message.trim());
    };
    const preview = stack.preview({ onEvent, ...policyOptions(stackName) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void stack.cancel().catch(() => undefined);
        reject(new Error(`no answer within ${TIMEOUT_MS / 1000} s (are the stack's hosts reachable?)`));
      }, TIMEOUT_MS);
    });
    const r = await Promise.race([preview, timeout]).finally(() => clearTimeout(timer));
    result.counts = r.changeSummary as Record<string, number>;
  } catch (e) {
    result.error =
      errors.length > 0
        ? errors.join("\n")
        : ((e as Error).message.split("\n").find((l) => /error:/.test(l)) ?? (e as Error).message).trim();
  }
  return result;
}

async function main(): Promise<void> {
  const wanted = (process.env.STACKS ?? "").split(/\s+/).filter(Boolean);
  const stacks = wanted.length > 0 ? wanted : stacksOfRepo();
  const previews: StackPreview[] = [];
  for (const s of stacks) {
    process.stderr.write(`pr-preview: ${s}\n`);
    previews.push(await previewStack(s));
  }
  process.stdout.write(renderReport(previews));
  if (previews.some((p) => p.error)) process.exitCode = 1;
}

void main();
