#!/usr/bin/env bash
# make demo, second part: the old server's database moved onto the dev stack's cluster under a live
# writer (sync, cutover with a way back, complete), then a summary: write pause, rows verified, nothing lost.
# The migration's config goes in a copy of Pulumi.dev.yaml (--config-file): the repository's
# stack file is not changed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "$0")/env.sh"
cd "$PGR_ROOT"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-pg-replication-sandbox}
ssh_pg1() { ssh -F "$PGR_SANDBOX_DIR/ssh_config" pg1 "$@"; }

echo "== the old server, as its owners prepare it (sandbox/old-server.sh)"
bash sandbox/old-server.sh --scale "${DEMO_SCALE:-5}"
# a database left on the leader by an earlier demo would be refused as a target (it has rows)
ssh_pg1 "cd / && sudo -n -u postgres psql -X -q -d postgres" << 'SQL'
select format('alter subscription %I disable', subname) from pg_subscription \gexec
SQL
ssh_pg1 "cd / && sudo -n -u postgres psql -X -q -d postgres -c 'drop database if exists appdb' 2>/dev/null" || {
  ssh_pg1 "cd / && sudo -n -u postgres psql -X -q -d appdb" << 'SQL'
select format('alter subscription %I set (slot_name = none)', subname) from pg_subscription \gexec
select format('drop subscription %I', subname) from pg_subscription \gexec
SQL
  ssh_pg1 "cd / && sudo -n -u postgres psql -X -q -d postgres -c 'drop database if exists appdb'"
}

config=$(mktemp --suffix=.yaml)
writes=$(mktemp)
trap 'rm -f "$config" "$writes"; [ -z "${writer:-}" ] || kill "$writer" 2>/dev/null || true' EXIT
# the migration, added to a copy of the stack's config as a person would write it
node -e '
  const yaml = require("js-yaml"), fs = require("fs");
  const doc = yaml.load(fs.readFileSync("Pulumi.dev.yaml", "utf8"));
  doc.config["pg-replication:migration"] = {
    source: { address: "10.77.0.10", database: "appdb", user: "migrator" },
    target: { cluster: "main", database: "appdb" },
    phase: "sync",
    sequenceMargin: 1000,
    wayBack: true,
  };
  fs.writeFileSync(process.argv[1], yaml.dump(doc, { lineWidth: 200 }));
' "$config"
printf '%s' "${PGR_OLD_MIGRATOR_PASSWORD:-m1grat0r-source-pw}" |
  pulumi config set --secret pg-replication:sourcePassword --config-file "$config" --stack dev --non-interactive
up() { pulumi up --yes --stack dev --non-interactive --config-file "$config"; }
phase() { sed -i "s/^\( *\)phase: .*/\1phase: $1/" "$config"; }

echo "== a writer: an order every 10 ms on the old server"
node -r ts-node/register/transpile-only scripts/demo-writer.ts "$writes" &
writer=$!
sleep 1

echo "== phase sync: roles, schema, publication, subscription, initial copy"
up
echo "== phase cutover"
phase cutover
up
sleep 1
kill -TERM "$writer"
wait "$writer" || true
writer=
echo "== the way back: the old server follows the new leader until complete"
node -r ts-node/register/transpile-only scripts/demo-wayback.ts "$writes"
echo "== phase complete (the way back is closed)"
phase complete
up
left=$(ssh_pg1 "cd / && sudo -n -u postgres psql -X -A -t -d postgres -c \"select count(*) from pg_replication_slots where slot_name = 'pgr_appdb_back'\"")
[ "$left" = 0 ] || { echo "demo: the way back's slot is still on pg1 after complete" >&2; exit 1; }
pulumi preview --stack dev --non-interactive --config-file "$config" --expect-no-changes > /dev/null

echo
echo "== migration summary"
report=$(pulumi stack output migration --json --stack dev)
# shellcheck disable=SC2016 # JavaScript in single quotes: its $ and backquotes are its own
PGR_OLD_APP_PASSWORD=${PGR_OLD_APP_PASSWORD:-app-pw-2026} node -e '
  const m = JSON.parse(process.argv[1]), w = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
  const r = m.cutoverReport;
  const { Client } = require("pg");
  const c = new Client({ host: "10.77.0.11", user: "app", password: process.env.PGR_OLD_APP_PASSWORD, database: "appdb", ssl: { rejectUnauthorized: false } });
  c.connect().then(() => c.query("select count(*)::int as n from orders where id = any($1::bigint[])", [w.onSource])).then((res) => {
  console.log(`rows lost          ${w.onSource.length - res.rows[0].n} of the ${w.onSource.length} orders the old server acknowledged`);
  console.log(`write pause        ${r.writePauseSeconds.toFixed(3)} s`);
  console.log(`tables verified    ${r.tablesVerified} (${r.rowsVerified} rows, exact count and checksum), mismatches: ${r.mismatches.length}`);
  console.log(`sequences set      ${r.sequencesSet}`);
  console.log(`sessions ended     ${r.sessionsEnded}; still on the source: ${r.connectionsLeftOnSource.join(", ") || "none"}`);
  console.log(`writer             ${w.onSource.length} orders on the old server, then ${w.onTarget.length} on the new leader`);
  return c.end();
  });
' "$report" "$writes"
echo
node -r ts-node/register/transpile-only scripts/status.ts dev
