#!/usr/bin/env bash
# Regenerates config/pg15Settings.json: every setting of PostgreSQL 15, with its type, base
# unit, range, enum values and context, as the server itself reports them in pg_settings. The
# server is a throwaway one started here on a Unix socket only, in a temporary folder, and stopped
# and deleted on exit; no other server is touched. `postgres --describe-config` (the settings of
# postgresql.conf.sample) lacks units and enum values and leaves out the developer settings a file
# may still hold, so it only cross-checks the list. Settings of context "internal" are kept: the
# checker refuses them with that reason (a file that sets one stops the server).
#
#   bash scripts/pg15-settings.sh            # writes config/pg15Settings.json (after `make deps`: node, prettier)
#   PG_BIN=/path/to/15/bin bash scripts/pg15-settings.sh
#   CHECK=1 bash scripts/pg15-settings.sh    # instead: checkSetting's verdicts against the server's
#                                            # (scripts/pg15-settings-check.ts; a few minutes)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "$0")/env.sh"
cd "$PGR_ROOT"

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
OUT=config/pg15Settings.json
PORT=5499

version=$("$PG_BIN/postgres" --version)
case $version in *" 15."*) ;; *) echo "pg15-settings: $PG_BIN/postgres is not PostgreSQL 15: $version" >&2 && exit 1 ;; esac

# postgres refuses to run as root: run its commands as the postgres user then
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/catalogue-pg.XXXXXX)
cleanup() {
  if [ -f "$work/data/postmaster.pid" ]; then as_pg "$PG_BIN/pg_ctl" -D "$work/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres: "$work"

as_pg "$PG_BIN/postgres" --describe-config | cut -f1 | sort >"$work/names"
as_pg "$PG_BIN/initdb" -D "$work/data" -U postgres -A trust --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$work/data" -l "$work/log" -w -o "-p $PORT -k $work -c listen_addresses=''" start >/dev/null

if [ "${CHECK:-}" = 1 ]; then
  check() { node -r ts-node/register/transpile-only scripts/pg15-settings-check.ts "$@"; }
  check sql >"$work/check.sql"
  as_pg "$PG_BIN/psql" -X -q -A -t -h "$work" -p "$PORT" -U postgres -d postgres -f - <"$work/check.sql" >"$work/verdicts" 2>/dev/null
  check compare "$work/verdicts"
  exit
fi

# the server's own words for each setting; min and max are in its base unit (8kB pages, ms, ...)
query=$(
  cat <<'SQL'
select json_build_object('postgres', current_setting('server_version'), 'settings', json_object_agg(name, s order by name))
from (
  select name, json_strip_nulls(json_build_object(
    'context', context,
    'vartype', vartype,
    'unit', unit,
    'min', min_val::float8,
    'max', max_val::float8,
    'enumvals', enumvals)) as s
  from pg_settings
) settings
SQL
)
as_pg "$PG_BIN/psql" -X -q -A -t -h "$work" -p "$PORT" -U postgres -d postgres \
  -v ON_ERROR_STOP=1 -f - <<<"$query" >"$work/catalogue.json" ||
  { cat "$work/log" >&2; exit 1; }

# pg_settings lists an enum's visible values only; the server also takes hidden spellings (the
# boolean words where on and off are values, old names). Each candidate is put to the server with
# ALTER SYSTEM, which validates a value whatever the setting's context; those it takes are kept.
# shellcheck disable=SC2016  # JavaScript in single quotes
node -e '
  const c = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  for (const [name, s] of Object.entries(c.settings)) {
    if (s.vartype !== "enum") continue;
    for (const v of ["true", "false", "yes", "no", "1", "0", "debug", "info", "archive", "hot_standby"]) {
      if (s.enumvals.includes(v)) continue;
      console.log(`alter system set ${name} = ${JSON.stringify(v).replace(/"/g, "\x27")};`);
      console.log(`\\if :ERROR\n\\else\n\\echo ${name} ${v}\n\\endif`);
    }
  }
  console.log("alter system reset all;");
' "$work/catalogue.json" >"$work/probe.sql"
as_pg "$PG_BIN/psql" -X -q -A -t -h "$work" -p "$PORT" -U postgres -d postgres -f - <"$work/probe.sql" >"$work/hidden" 2>/dev/null

# every name of postgresql.conf.sample must be in pg_settings
# shellcheck disable=SC2016  # JavaScript in single quotes
node -e '
  const fs = require("node:fs");
  const read = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean);
  const catalogue = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const missing = read(process.argv[2]).filter((n) => !(n in catalogue.settings));
  if (missing.length > 0) { console.error(`pg15-settings: not in pg_settings: ${missing.join(", ")}`); process.exit(1); }
  for (const [name, value] of read(process.argv[3]).map((l) => l.split(" "))) {
    const s = catalogue.settings[name];
    s.hidden = [...(s.hidden ?? []), value];
  }
  console.error(`pg15-settings: ${Object.keys(catalogue.settings).length} settings of PostgreSQL ${catalogue.postgres}`);
  console.log(JSON.stringify(catalogue));
' "$work/catalogue.json" "$work/names" "$work/hidden" >"$work/final.json"
mkdir -p config && ./node_modules/.bin/prettier --stdin-filepath "$OUT" <"$work/final.json" >"$work/pretty.json"
mv "$work/pretty.json" "$OUT"
