// The pull request's one pg-replication comment: created the first time, edited after (found by
// MARKER among the pull request's comments, page by page, and written by the bot: a comment with
// the marker by anyone else is not ours, and is left alone). The forge's REST API, with the token
// the workflow gives; nothing else.
import * as fs from "node:fs";

export const MARKER = "<!-- pg-replication:pr-preview -->";
/** The login of the workflow token's identity, which writes the comment. */
export const DEFAULT_BOT_LOGIN = "github-actions[bot]";

interface Comment {
  id: number;
  body?: string;
  user?: { login?: string } | null;
}

export interface Forge {
  api: string;
  repository: string;
  token: string;
  botLogin: string;
}

async function call(forge: Forge, method: string, route: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`${forge.api}${route}`, {
    method,
    headers: {
      Accept: "application/vnd.github+json",
      Authorization: `Bearer ${forge.token}`,
      "X-GitHub-Api-Version": "2022-11-28",
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`${method} ${route}: ${r.status} ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

/** Creates or edits the comment; returns what it did and the comment's id. */
export async function upsertComment(forge: Forge, pr: number, report: string): Promise<{ action: "created" | "updated"; id: number }> {
  const body = `${MARKER}\n${report}`;
  for (let page = 1; page < 100; page++) {
    const comments = (await call(forge, "GET", `/repos/${forge.repository}/issues/${pr}/comments?per_page=100&page=${page}`)) as Comment[];
    const mine = comments.find((c) => c.body?.startsWith(MARKER) && c.user?.login === forge.botLogin);
    if (mine) {
      await call(forge, "PATCH", `/repos/${forge.repository}/issues/comments/${mine.id}`, { body });
      return { action: "updated", id: mine.id };
    }
    if (comments.length < 100) break;
  }
  const created = (await call(forge, "POST", `/repos/${forge.repository}/issues/${pr}/comments`, { body })) as Comment;
  return { action: "created", id: created.id };
}

async function main(): Promise<void> {
  const forge = {
    api: process.env.GITHUB_API_URL ?? "https://api.github.com",
    repository: process.env.GITHUB_REPOSITORY ?? "",
    token: process.env.GITHUB_TOKEN ?? "",
    botLogin: process.env.PR_COMMENT_AUTHOR || DEFAULT_BOT_LOGIN,
  };
  const r = await upsertComment(forge, Number(process.env.PR_NUMBER), fs.readFileSync(process.argv[2], "utf8"));
  process.stdout.write(`pr-comment: ${r.action} comment ${r.id}\n`);
}

if (require.main === module)
  main().catch((e: Error) => {
    process.stderr.write(`pr-comment: ${e.message}\n`);
    process.exitCode = 1;
  });
