// The workflow's comment script against a stand-in of the forge's REST API on localhost: the
// first run creates the comment, every later run edits that one (found on a later page too).
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { MARKER } from "../../../ci/prComment";

const ROOT = path.resolve(__dirname, "../../..");

interface Stored {
  id: number;
  body: string;
  user?: { login: string };
}

/** The forge's comments API; comments it creates are by `author` (the token's identity). */
function forge(comments: Stored[], author = "github-actions[bot]"): Promise<{ url: string; calls: string[]; close: () => void }> {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (d) => (data += d));
    req.on("end", () => {
      calls.push(`${req.method} ${req.url}`);
      assert.equal(req.headers.authorization, "Bearer t0ken");
      const url = new URL(req.url ?? "", "http://x");
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "GET" && url.pathname === "/repos/lib/repo/issues/7/comments") {
        const page = Number(url.searchParams.get("page"));
        return send(200, comments.slice((page - 1) * 100, page * 100));
      }
      if (req.method === "POST" && url.pathname === "/repos/lib/repo/issues/7/comments") {
        const c = { id: 1000 + comments.length, body: JSON.parse(data).body, user: { login: author } };
        comments.push(c);
        return send(201, c);
      }
      const m = /^\/repos\/lib\/repo\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if (req.method === "PATCH" && m) {
        const c = comments.find((x) => x.id === Number(m[1]));
        if (!c) return send(404, {});
        c.body = JSON.parse(data).body;
        return send(200, c);
      }
      send(404, { message: "not here" });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close: () => server.close() }),
    ),
  );
}

function runScript(api: string, report: string, env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pgr-comment-")), "report.md");
  fs.writeFileSync(file, report);
  return new Promise((resolve) => {
    const child = spawn("bash", [path.join(ROOT, "ci/pr-comment.sh"), file], {
      env: { ...process.env, GITHUB_API_URL: api, GITHUB_REPOSITORY: "lib/repo", GITHUB_TOKEN: "t0ken", PR_NUMBER: "7", ...env },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe("the pull-request comment script", function () {
  this.timeout(120_000);

  it("creates the comment once, then edits it, even past the first page", async () => {
    const others = Array.from({ length: 130 }, (_, i) => ({ id: i + 1, body: `review ${i}` }));
    const f = await forge(others);
    try {
      let r = await runScript(f.url, "## first report\n");
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /pr-comment: created comment 1130/);
      r = await runScript(f.url, "## second report\n");
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /pr-comment: updated comment 1130/);
      const mine = others.filter((c) => c.body.startsWith(MARKER));
      assert.equal(mine.length, 1);
      assert.equal(mine[0].body, `${MARKER}\n## second report\n`);
      assert.ok(f.calls.includes("PATCH /repos/lib/repo/issues/comments/1130"));
    } finally {
      f.close();
    }
  });

  it("edits only its own comment: one with the marker by someone else is left alone", async () => {
    const spoofed = { id: 5, body: `${MARKER}\n## Nothing here can cost data\n`, user: { login: "mallory" } };
    const comments: Stored[] = [spoofed];
    const f = await forge(comments);
    try {
      let r = await runScript(f.url, "## first report\n");
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /pr-comment: created comment 1001/);
      r = await runScript(f.url, "## second report\n");
      assert.match(r.out, /pr-comment: updated comment 1001/);
      assert.equal(spoofed.body, `${MARKER}\n## Nothing here can cost data\n`);
      assert.ok(!f.calls.includes("PATCH /repos/lib/repo/issues/comments/5"), f.calls.join("\n"));
    } finally {
      f.close();
    }
  });

  it("takes the bot's login from PR_COMMENT_AUTHOR (another app's token)", async () => {
    const comments: Stored[] = [];
    const f = await forge(comments, "pg-replication-app[bot]");
    const env = { PR_COMMENT_AUTHOR: "pg-replication-app[bot]" };
    try {
      assert.match((await runScript(f.url, "one\n", env)).out, /pr-comment: created comment 1000/);
      assert.match((await runScript(f.url, "two\n", env)).out, /pr-comment: updated comment 1000/);
      assert.match((await runScript(f.url, "three\n")).out, /pr-comment: created comment 1001/);
    } finally {
      f.close();
    }
  });

  it("fails with the forge's answer, and refuses to run without its settings", async () => {
    const f = await forge([]);
    try {
      const bad = await runScript(`${f.url}/nowhere`, "x");
      assert.equal(bad.code, 1);
      assert.match(bad.out, /pr-comment: GET \/repos\/lib\/repo\/issues\/7\/comments\?per_page=100&page=1: 404/);
    } finally {
      f.close();
    }
  });
});
