import { strict as assert } from "node:assert";
import { StackPreview, attention, changedLines, renderReport } from "../../../report/markdown";

const script = (lines: string[]) => lines.join("\n") + "\n";

function preview(changes: StackPreview["changes"], extra: Partial<StackPreview> = {}): StackPreview {
  return { stack: "staging", counts: { update: changes.length, same: 20 }, changes, ...extra };
}

const apply = (before: string[], after: string[]) => ({
  op: "update",
  type: "command:remote:Command",
  name: "main-pg2-apply",
  diffs: ["stdin"],
  oldInputs: { stdin: script(before) },
  newInputs: { stdin: script(after) },
});

describe("the pull-request report", () => {
  it("shows a rendered script's changed lines, not the whole text", () => {
    assert.deepEqual(changedLines(script(["a = 1", "work_mem = 4MB", "b = 2"]), script(["a = 1", "work_mem = 8MB", "b = 2"])), [
      "- work_mem = 4MB",
      "+ work_mem = 8MB",
    ]);
  });

  it("never shows a secret", () => {
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
    assert.deepEqual(changedLines(secret, { ...secret, value: "hunter3" }), ["~ [secret]"]);
    assert.doesNotMatch(
      renderReport([
        preview([{ ...apply([], []), diffs: ["stdin"], oldInputs: { stdin: secret }, newInputs: { stdin: { ...secret, value: "x" } } }]),
      ]),
      /hunter/,
    );
  });

  it("lists a restart for a postmaster setting, and not for a reloadable one", () => {
    assert.deepEqual(attention(preview([apply(["work_mem = 4MB"], ["work_mem = 8MB"])])), []);
    assert.match(
      attention(preview([apply(["max_connections = 100"], ["max_connections = 200"])]))[0],
      /main-pg2-apply: PostgreSQL restart for max_connections/,
    );
  });

  it("lists a replaced role, a standby rebuild and a leader change", () => {
    const risks = attention(
      preview([
        { op: "replace", type: "postgresql:index/role:Role", name: "main-replication", diffs: ["name"], oldInputs: {}, newInputs: {} },
        {
          op: "update",
          type: "command:remote:Command",
          name: "main-pg3-follow",
          diffs: ["stdin"],
          oldInputs: { stdin: "token=''\n" },
          newInputs: { stdin: "token=2026-11-27\n" },
        },
        {
          op: "update",
          type: "command:remote:Command",
          name: "main-lead",
          diffs: ["stdin"],
          oldInputs: { stdin: "# pg-replication: the leader on pg1\n" },
          newInputs: { stdin: "# pg-replication: the leader on pg2\n" },
        },
      ]),
    );
    assert.equal(risks.length, 3, risks.join("\n"));
    assert.match(risks.join("\n"), /replace of a Role[\s\S]*standby rebuild[\s\S]*leader change/);
  });

  it("lists what the program warned of at plan time, as not destructive", () => {
    const p = preview([], {
      notes: ["cluster main: appdb.public.people.postal_address looks like personal data and no masking rule covers it"],
    });
    assert.deepEqual(attention(p), [
      "`staging` cluster main: appdb.public.people.postal_address looks like personal data and no masking rule covers it",
    ]);
    assert.match(renderReport([p]), /### Needs attention\n- `staging` cluster main: appdb\.public\.people\.postal_address/);
  });

  it("tells a member that rejoins from a rebuild: only a new, non-empty token is a rebuild", () => {
    const follow = (op: string, before: string | undefined, after: string) => ({
      op,
      type: "command:remote:Command",
      name: "main-pg1-follow",
      diffs: ["stdin"],
      oldInputs: before === undefined ? {} : { stdin: `token=${before}\n` },
      newInputs: { stdin: `token=${after}\n` },
    });
    // a switchover: the former leader gets a follow step
    assert.deepEqual(attention(preview([follow("create", undefined, "''")])), [
      "`staging` main-pg1-follow: becomes a standby: rejoins without a copy; rebuilt only if its history diverged",
    ]);
    // a token removed or emptied asks for nothing
    assert.deepEqual(attention(preview([follow("update", "2026-11-27", "''")])), []);
    assert.match(attention(preview([follow("update", "2026-11-27", "2026-12-02")]))[0], /standby rebuild/);
  });

  it("lists a change that stops archiving or shortens a backup retention, and nothing for a longer one", () => {
    const step = (name: string, before: string, after: string) => ({
      op: "update",
      type: "command:remote:Command",
      name,
      diffs: ["stdin"],
      oldInputs: { stdin: before },
      newInputs: { stdin: after },
    });
    const conf = (full: number) => `[main]\nrepo1-retention-diff=6\nrepo1-retention-full=${full}\n`;
    assert.deepEqual(attention(preview([step("main-backup-repository", conf(4), conf(2))])), [
      "`staging` main-backup-repository: backup retention shortened, repo1-retention-full 4 → 2 (the next backup expires the older ones and their WAL)",
    ]);
    assert.deepEqual(attention(preview([step("main-backup-repository", conf(2), conf(4))])), []);
    assert.deepEqual(attention(preview([step("main-pg2-apply", "archive_mode = on\nport = 5432\n", "port = 5432\n")])), [
      "`staging` main-pg2-apply: WAL archiving stops (no backup or point-in-time restore past this moment)",
      "`staging` main-pg2-apply: PostgreSQL restart for archive_mode (rolled: standbys first, the leader last)",
    ]);
  });

  it("lists the slots a drop-slots step drops, and nothing when it drops none", () => {
    const drop = (before: string, after: string) => ({
      op: "update",
      type: "command:remote:Command",
      name: "main-pg1-drop-slots",
      diffs: ["stdin"],
      oldInputs: { stdin: `host=pg1\nslots=(${before})\n` },
      newInputs: { stdin: `host=pg1\nslots=(${after})\n` },
    });
    assert.deepEqual(attention(preview([drop("", "pgr_pg4@0/3000148 pgr_pg5@0/3000148")])), [
      "`staging` main-pg1-drop-slots: drops the replication slots pgr_pg4, pgr_pg5 of hosts no longer in config (such a host comes back only as a copy)",
    ]);
    assert.deepEqual(attention(preview([drop("", "")])), []);
  });

  it("lists a standby setting below its leader's, and nothing when it is not", () => {
    const lead = {
      op: "same",
      type: "command:remote:Command",
      name: "main-lead",
      diffs: [],
      oldInputs: {},
      newInputs: { stdin: script(["# pg-replication: the leader on pg1"]) },
    };
    const leaderApply = { ...apply([], ["max_connections = 200"]), op: "same", name: "main-pg1-apply" };
    const below = apply(["max_connections = 200"], ["max_connections = 100"]);
    const found = attention(preview([below], { unchanged: [lead, leaderApply] }));
    assert.deepEqual(found.length, 2, found.join("\n"));
    assert.match(found[1], /`staging` main-pg2: max_connections 100 is below the leader's 200/);
    const fine = attention(preview([apply(["max_connections = 200"], ["max_connections = 300"])], { unchanged: [lead, leaderApply] }));
    assert.ok(!fine.some((l) => /below the leader/.test(l)), fine.join("\n"));
  });

  it("lists the policy findings under their own heading", () => {
    const text = renderReport([preview([], { policies: ["[mandatory] client-sslmode-require (main): sslmode prefer"] })]);
    assert.match(text, /### Policy findings\n- `staging` \[mandatory\] client-sslmode-require \(main\): sslmode prefer/);
  });

  it("puts the risks and the counts first, so that trimming keeps them", () => {
    const quiet = Array.from({ length: 400 }, (_, i) => ({
      ...apply([`work_mem = ${i}MB`], [`work_mem = ${i + 1}MB`]),
      name: `main-h${i}-apply`,
    }));
    const big = preview([apply(["max_connections = 100"], ["max_connections = 101"]), ...quiet]);
    const report = renderReport([big], 5_000);
    assert.ok(report.length <= 5_000);
    assert.match(report, /### Needs attention\n- `staging` main-pg2-apply: PostgreSQL restart/);
    assert.match(report, /\| `staging` \| 0 create, 401 update, 0 replace, 0 delete, 20 same \|/);
    assert.match(report, /trimmed to the comment limit/);
  });

  it("says which stack failed and why", () => {
    const report = renderReport([preview([], { error: "pg-replication:adminPassword: is required" })]);
    assert.match(report, /\| `staging` \| \*\*preview failed\*\*: pg-replication:adminPassword: is required \|/);
  });
});
