import { strict as assert } from "node:assert";
import { renderMaskingSql } from "../../../render/masking";
import { renderAdminOnlyHba } from "../../../render/pgHba";
import { renderRefreshLeaderScript, renderRefreshRolesSql } from "../../../render/refresh";
import { clusterSpec } from "../fixtures";

describe("a refresh's SQL and scripts", () => {
  it("masks with triggers off in one transaction, then rewrites each masked table, every name quoted", () => {
    const sql = renderMaskingSql(
      [{ database: "appdb", schema: 'we"ird', table: "peo ple", columns: { "e-mail": "email", pin: { constant: "it's" }, notes: "null" } }],
      "k",
    );
    const lines = sql.split("\n");
    assert.ok(lines.indexOf("begin;") < lines.indexOf("set local session_replication_role = replica;"));
    assert.match(
      sql,
      /update "we""ird"\."peo ple" set "e-mail" = pg_temp\.pgr_mask_email\("e-mail"::text\), "pin" = 'it''s', "notes" = null;/,
    );
    assert.ok(lines.indexOf("commit;") < lines.findIndex((l) => l.startsWith("vacuum (full, analyze)")));
    assert.match(sql, /vacuum \(full, analyze\) "we""ird"\."peo ple";/);
    assert.doesNotMatch(sql, /create (or replace )?function (?!pg_temp\.)/, "nothing is left in the database");
  });

  it("gives this stack's roles its verifiers and takes the login of every other role", () => {
    const sql = renderRefreshRolesSql({ admin: "SCRAM-A", replication: "SCRAM-R", othersLoseLogin: true });
    assert.match(sql, /ALTER ROLE "pgr_admin" WITH LOGIN SUPERUSER PASSWORD 'SCRAM-A';/);
    assert.match(sql, /ALTER ROLE "replicator" WITH LOGIN REPLICATION NOSUPERUSER PASSWORD 'SCRAM-R';/);
    assert.match(
      sql,
      /NOLOGIN PASSWORD NULL', rolname\) FROM pg_roles WHERE rolcanlogin AND rolname <> 'postgres' AND rolname NOT IN \('pgr_admin', 'replicator'\) \\gexec/,
    );
    assert.doesNotMatch(sql, /pgr_preview/);
    assert.match(
      renderRefreshRolesSql({ admin: "a", replication: "r", preview: "p", othersLoseLogin: true }),
      /NOT IN \('pgr_admin', 'replicator', 'pgr_preview'\)/,
    );
  });

  it("a restore of the cluster's own data keeps the other roles' logins", () => {
    assert.doesNotMatch(renderRefreshRolesSql({ admin: "a", replication: "r", othersLoseLogin: false }), /NOLOGIN/);
  });

  it("opens only the admin's lines (and the local postgres account) while it runs", () => {
    const hba = renderAdminOnlyHba({ ...clusterSpec(), adminAddresses: ["10.0.0.0/24"] }, "pgr_admin");
    const rules = hba.split("\n").filter((l) => l && !l.startsWith("#"));
    assert.deepEqual(
      rules.map((l) => l.split(/\s+/)),
      [
        ["local", "all", "postgres", "peer"],
        ["hostssl", "all", "pgr_admin", "10.0.0.0/24", "scram-sha-256"],
      ],
    );
  });

  it("carries the reader's key in the script's text, never on a command line, and the masking per database", () => {
    const script = renderRefreshLeaderScript({
      host: "stg1",
      source: {
        stanza: "prod",
        reader: {
          address: "10.0.0.9",
          sshPort: 22,
          account: "pgr-read-staging",
          path: "/var/lib/pgbackrest",
          known: "10.0.0.9 ssh-ed25519 AAAA",
          privateKey: "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
        },
      },
      target: { type: "default" },
      adminHba: "local all postgres peer\n",
      roles: { admin: "a", replication: "r", othersLoseLogin: true },
      masking: [
        { database: "appdb", schema: "public", table: "people", columns: { email: "email" } },
        { database: "crm", schema: "public", table: "leads", columns: { phone: "phone" } },
      ],
      maskingKey: "key",
    });
    assert.match(script, /reader_key\(\) \{\n  cat <<'[A-Z_]+'\n-----BEGIN KEY-----\nabc\n-----END KEY-----\n/);
    assert.match(script, /masked_databases=\(appdb crm\)/);
    assert.match(script, /masked_tables=\(appdb:public\.people:email crm:public\.leads:phone\)/);
    assert.match(script, /    crm\) cat <<'PGR_MASKING'\n[^]*update "public"\."leads" set "phone"/);
  });
});
