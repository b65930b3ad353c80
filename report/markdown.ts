// The pull-request report, from the previews' engine events: per stack the counts, then each
// changed resource with its property diff (a rendered script or file shows its changed lines,
// not the whole text; secrets stay "[secret]"), and first of all what can cost data or
// availability. Pure: report/prPreview.ts feeds it.
import { diffLines } from "diff";
import { isDataBearing } from "../lib/dataBearing";
import { STANDBY_MINIMUMS } from "../postgres15";
import { needsRestart } from "../config/settingsCatalogue";

export interface ResourceChange {
  op: string;
  type: string;
  name: string;
  diffs: string[];
  oldInputs: Record<string, unknown>;
  newInputs: Record<string, unknown>;
}

/** A resource's planned step as an engine event describes it. */
export function resourceChange(m: {
  op: string;
  type: string;
  urn: string;
  diffs?: string[];
  old?: { inputs?: unknown };
  new?: { inputs?: unknown };
}): ResourceChange {
  return {
    op: m.op,
    type: m.type,
    name: m.urn.split("::").pop() ?? m.urn,
    diffs: m.diffs ?? [],
    oldInputs: (m.old?.inputs ?? {}) as Record<string, unknown>,
    newInputs: (m.new?.inputs ?? {}) as Record<string, unknown>,
  };
}

export interface StackPreview {
  stack: string;
  error?: string;
  counts: Record<string, number>;
  changes: ResourceChange[];
  /** Policy pack findings, one line each: "[level] policy (resource): message". */
  policies?: string[];
  /** The unchanged resources' inputs, for what a change is compared with (a leader's settings). */
  unchanged?: ResourceChange[];
  /** What the program itself warned of at plan time with "needs attention: …" (the text after it). */
  notes?: string[];
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A property's value as text, with secrets hidden. */
export function show(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  const json = JSON.stringify(value, null, 2);
  return json.includes(SECRET_SIG) ? "[secret]" : json;
}

/** The lines a change adds and removes, each prefixed "+ " or "- ". */
export function changedLines(before: unknown, after: unknown): string[] {
  const a = show(before);
  const b = show(after);
  if (a === "[secret]" || b === "[secret]") return JSON.stringify(before) === JSON.stringify(after) ? [] : ["~ [secret]"];
  const out: string[] = [];
  for (const part of diffLines(a, b)) {
    if (!part.added && !part.removed) continue;
    for (const line of part.value.replace(/\n$/, "").split("\n")) out.push(`${part.added ? "+" : "-"} ${line}`);
  }
  return out;
}

const settingOf = (line: string) => /^[+-] ([a-z_][a-z0-9_]*) = /.exec(line)?.[1];

/** A rebuild token as a follow step's script holds it ("" when none is set). */
/** The slots a drop-slots step's script lists (host/drop-slots.sh's header: `slots=(NAME@LSN …)`), by name. */
function slotsIn(script: unknown): string[] {
  const list = /^slots=\((.*)\)$/m.exec(String(script ?? ""))?.[1] ?? "";
  return [...list.matchAll(/([a-z0-9_]+)@/g)].map((m) => m[1]);
}

function tokenIn(script: unknown): string {
  const raw = /^token=(.*)$/m.exec(String(script ?? ""))?.[1] ?? "";
  return raw.replace(/^'(.*)'$/, "$1");
}

/** Something a preview would do that a reviewer must see; `destructive` ones also stop a promotion. */
export interface Risk {
  text: string;
  destructive: boolean;
}

/** The operations in a stack's preview that can cost data or availability. */
export function risks(p: StackPreview): Risk[] {
  const found: Risk[] = [];
  const add = (text: string, destructive: boolean) => found.push({ text, destructive });
  for (const c of p.changes) {
    const where = `\`${p.stack}\` ${c.name}`;
    if ((c.op === "delete" || c.op.includes("replace")) && isDataBearing(c.type))
      add(`${where}: ${c.op} of a ${c.type.split(":").pop()}`, true);
    if (c.type !== "command:remote:Command" && c.type !== "command:local:Command") continue;
    const lines = changedLines(c.oldInputs.stdin, c.newInputs.stdin);
    if (c.name.endsWith("-follow")) {
      const [before, after] = [tokenIn(c.oldInputs.stdin), tokenIn(c.newInputs.stdin)];
      // only a new, non-empty token is a request to rebuild; a member joining (a former leader) keeps its data when it can
      if (c.op !== "create" && after !== "" && after !== before)
        add(`${where}: standby rebuild (its data directory is replaced by a copy of the leader)`, true);
      else if (c.op === "create") add(`${where}: becomes a standby: rejoins without a copy; rebuilt only if its history diverged`, false);
    }
    if (c.name.endsWith("-lead") && c.op !== "create" && lines.some((l) => /^[+-] # pg-replication: the leader on /.test(l)))
      add(`${where}: leader change (the old leader is stopped, this one promoted)`, true);
    if (c.name.endsWith("-drop-slots") && c.op !== "delete" && show(c.oldInputs.stdin) !== show(c.newInputs.stdin)) {
      const slots = slotsIn(c.newInputs.stdin);
      if (slots.length > 0)
        add(
          `${where}: drops the replication slots ${slots.join(", ")} of hosts no longer in config (such a host comes back only as a copy)`,
          false,
        );
    }
    if (c.name.endsWith("-apply") && lines.includes("- archive_mode = on") && !lines.includes("+ archive_mode = on"))
      add(`${where}: WAL archiving stops (no backup or point-in-time restore past this moment)`, false);
    if (c.name.endsWith("-backup-repository"))
      for (const [key, was, now] of shortenedRetention(c.oldInputs.stdin, c.newInputs.stdin))
        add(`${where}: backup retention shortened, ${key} ${was} → ${now} (the next backup expires the older ones and their WAL)`, false);
    if (c.name.endsWith("-cutover") && c.op === "create")
      add(`${where}: migration cutover (writes on the source are frozen, then it stays read-only)`, true);
    if (c.name.endsWith("-subscription") && c.op === "delete") add(`${where}: migration phase change (the subscription step ends)`, false);
    if (c.name.endsWith("-revert") && c.op === "create")
      add(`${where}: migration revert (writes on the target are frozen, the application goes back to the source)`, true);
    if (c.name.endsWith("-apply")) {
      const restart = [...new Set(lines.map(settingOf).filter((s): s is string => !!s && needsRestart(s)))];
      if (restart.length > 0)
        add(`${where}: PostgreSQL restart for ${restart.join(", ")} (rolled: standbys first, the leader last)`, false);
    }
  }
  for (const note of p.notes ?? []) add(`\`${p.stack}\` ${note}`, false);
  return [...found, ...standbysBelowLeader(p).map((text) => ({ text, destructive: false }))];
}

/** The retention counts of a repository host's stanza file that the change lowers: [key, before, after]. */
function shortenedRetention(before: unknown, after: unknown): [string, number, number][] {
  const counts = (text: unknown) =>
    Object.fromEntries([...String(text ?? "").matchAll(/^(repo\d+-retention-(?:full|diff))=(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  const [was, now] = [counts(before), counts(after)];
  return Object.keys(was)
    .filter((k) => now[k] !== undefined && now[k] < was[k])
    .map((k) => [k, was[k], now[k]]);
}

/** The risks, one line each, as the report lists them. */
export function attention(p: StackPreview): string[] {
  return risks(p).map((r) => r.text);
}

/** The value each `name = value` line of a rendered conf sets last (a later line wins, as in PostgreSQL). */
function settingsIn(script: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of String(script ?? "").matchAll(/^\s*([a-z_]+)\s*=\s*'?(\d+)'?\s*(#.*)?$/gm))
    if (m[1] in STANDBY_MINIMUMS) out[m[1]] = Number(m[2]);
  return out;
}

/**
 * A standby whose configured setting would fall below its leader's (max_connections and the
 * like): a hot standby refuses to start that way. Read from each member's host configuration
 * step; the leader is the member with the cluster's `-lead` step. Listed when either changes.
 */
function standbysBelowLeader(p: StackPreview): string[] {
  const all = [...p.changes.filter((c) => c.op !== "delete"), ...(p.unchanged ?? [])];
  const found: string[] = [];
  for (const lead of all.filter((c) => c.name.endsWith("-lead"))) {
    const cluster = lead.name.slice(0, -"lead".length);
    const leader = /^# pg-replication: the leader on (\S+)$/m.exec(String(lead.newInputs.stdin ?? ""))?.[1];
    const leaderApply = all.find((c) => c.name === `${cluster}${leader}-apply`);
    if (!leaderApply) continue;
    const leaderSettings = settingsIn(leaderApply.newInputs.stdin);
    for (const member of all.filter((c) => c.name.startsWith(cluster) && c.name.endsWith("-apply") && c !== leaderApply)) {
      if (!p.changes.includes(member) && !p.changes.includes(leaderApply)) continue;
      for (const [name, value] of Object.entries(settingsIn(member.newInputs.stdin)))
        if (leaderSettings[name] !== undefined && value < leaderSettings[name])
          found.push(
            `\`${p.stack}\` ${member.name.slice(0, -"-apply".length)}: ${name} ${value} is below the leader's ${leaderSettings[name]} (a hot standby refuses to start; the program holds it at the leader's)`,
          );
    }
  }
  return found;
}

function counts(p: StackPreview): string {
  const order = ["create", "update", "replace", "delete", "same"];
  const n = (k: string) =>
    Object.entries(p.counts)
      .filter(([op]) => op === k || (k === "replace" && op.includes("replace")))
      .reduce((a, [, v]) => a + v, 0);
  return order.map((k) => `${n(k)} ${k}`).join(", ");
}

function details(p: StackPreview): string {
  const blocks = p.changes
    .filter((c) => c.op !== "same" && c.op !== "read")
    .map((c) => {
      const props = c.diffs.length > 0 ? c.diffs : Object.keys({ ...c.oldInputs, ...c.newInputs });
      const body = props
        .map((k) => {
          const lines = changedLines(c.oldInputs[k], c.newInputs[k]);
          return lines.length > 0 ? `${k}:\n${lines.join("\n")}` : "";
        })
        .filter(Boolean)
        .join("\n");
      return `<details><summary><code>${c.op}</code> ${c.name} (${c.type})</summary>\n\n\`\`\`diff\n${body || "(no property diff)"}\n\`\`\`\n</details>`;
    });
  return blocks.join("\n");
}

/** An error's first lines, on one table row. */
const firstLines = (error: string) =>
  error
    .split("\n")
    .map((l) => l.trim().replace(/^- /, ""))
    .filter(Boolean)
    .slice(0, 4)
    .join(" ")
    .replace(/\|/g, "\\|");

function policySection(previews: StackPreview[]): string[] {
  const lines = previews.flatMap((p) => (p.policies ?? []).map((l) => `- \`${p.stack}\` ${l}`));
  return lines.length > 0 ? ["### Policy findings", ...lines, ""] : [];
}

/**
 * The Markdown comment. The risk list and the counts come first, so that trimming a long report
 * to `limit` characters (a forge's comment limit) never drops them.
 */
export function renderReport(previews: StackPreview[], limit = 65_000): string {
  const risks = previews.flatMap((p) => attention(p));
  const head = [
    "## pg-replication preview",
    "",
    "### Needs attention",
    ...(risks.length > 0 ? risks.map((r) => `- ${r}`) : ["- nothing that can cost data or availability"]),
    "",
    ...policySection(previews),
    "| stack | result |",
    "| --- | --- |",
    ...previews.map((p) => `| \`${p.stack}\` | ${p.error ? `**preview failed**: ${firstLines(p.error)}` : counts(p)} |`),
    "",
  ].join("\n");
  const body = previews
    .map((p) => `### \`${p.stack}\`\n\n${p.error ? `Preview failed:\n\n\`\`\`\n${p.error}\n\`\`\`` : details(p) || "No changes."}`)
    .join("\n\n");
  const full = `${head}\n${body}\n`;
  if (full.length <= limit) return full;
  const note = "\n\n… (trimmed to the comment limit: run `make pr-preview` for the whole report)\n";
  return full.slice(0, Math.max(head.length, limit - note.length)) + note;
}
