set -euo pipefail
host=pg1
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
db=appdb
src="host='10.77.0.10' port='5432' dbname='appdb' user='migrator' passfile='/var/lib/postgresql/.pg-replication-source.pgpass' sslmode='require' application_name='pg-replication subscription' connect_timeout='10'"
conn="host='10.77.0.10' port='5432' dbname='appdb' user='migrator' passfile='/var/lib/postgresql/.pg-replication-source.pgpass' sslmode='require' application_name='s' connect_timeout='10'"
subscription=s
publication=p
published='all tables'

# shellcheck shell=bash
# What the migration's scripts share. The target cluster's leader receives each on stdin of
# `sudo -n bash -s`, like the host steps: a header of quoted values (render/migrationScripts.ts),
# this file, then the script's own file, whose last line runs its main.

begin() {
  : "${host:?}" "${pgbin:?}" "${datadir:?}"
  step="starting"
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }
sock() { sed -n 5p "$datadir/postmaster.pid"; }
port() { sed -n 4p "$datadir/postmaster.pid"; }
# target_sql DB PSQL_ARGS...: psql on the target's own server, through its socket
target_sql() {
  local db=$1
  shift
  as_postgres "$pgbin/psql" -w -X -A -t -q -v ON_ERROR_STOP=1 -h "$(sock)" -p "$(port)" -d "$db" "$@"
}
say() { echo "pg-replication migration on $host: $*"; }
fail() {
  echo "pg-replication migration on $host: $step failed: $*" >&2
  exit 1
}

# Subscription: creates it, or alters it in place when it exists (connection, publication,
# enabled, and refreshed: a table the publication gained is subscribed and copied): it is never
# dropped and re-created, which would copy every table again. A new
# subscription over tables that already hold rows is refused. Waits (bounded) until every table
# has its initial copy, printing the progress. Names and the connection reach the SQL as psql
# variables (:"name" an identifier, :'value' a literal), quoted by psql itself.

# copy_missing_tables: a table the publication gained after the schema copy (created on the source
# during the sync) has no table to land in on the target: its schema comes first, in one transaction
copy_missing_tables() {
  : "${src:?}" "${publication:?}"
  # postgres writes the list here, and the schema of the tables the target lacks: postgres's alone
  tmp=$(mktemp -d)
  chown postgres:postgres "$tmp"
  chmod 700 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  step="reading the tables the source publishes"
  # one JSON document (control characters escaped) in a file, which the target reads in one query
  local out lacking t
  out=$(as_postgres "$pgbin/psql" -w -X -A -t -q -v ON_ERROR_STOP=1 -d "$src" -v pub="$publication" -o "$tmp/published.json" <<'SQL' 2>&1
select coalesce(json_agg(format('%I.%I', schemaname, tablename) order by schemaname, tablename), '[]') from pg_publication_tables where pubname = :'pub'
SQL
  ) || fail "$(printf '%s\n' "$out" | tail -n 1)"
  step="finding the published tables the target lacks"
  lacking=$(target_sql "$db" -v listed_file="$tmp/published.json" <<'SQL'
\set listed `cat :'listed_file'`
select t from json_array_elements_text(:'listed'::json) t where to_regclass(t) is null
SQL
  ) || fail "cannot read the target's tables"
  local missing=() patterns=()
  while IFS= read -r t; do
    [ -n "$t" ] || continue
    missing+=("$t")
    # a quoted part of a pattern is matched literally; format('%I') quotes every name that is not plain
    patterns+=(-t "$t")
  done <<<"$lacking"
  [ ${#missing[@]} -gt 0 ] || return 0

  step="copying the schema of ${missing[*]}"
  out=$(as_postgres "$pgbin/pg_dump" -w -d "$src" --schema-only --no-publications --no-subscriptions --strict-names "${patterns[@]}" 2>&1 >"$tmp/tables.sql") ||
    fail "$(printf '%s\n' "$out" | tail -n 1)"
  out=$(target_sql "$db" --single-transaction -f "$tmp/tables.sql" 2>&1 >/dev/null) ||
    fail "nothing of it was kept: $(printf '%s\n' "$out" | grep -m 1 ERROR || printf '%s\n' "$out" | tail -n 1)"
  say "published since the schema copy, created here from the source's schema: ${missing[*]}"
}

main() {
  : "${db:?}" "${src:?}" "${conn:?}" "${subscription:?}" "${publication:?}" "${published:?}"
  begin

  step="checking the subscription"
  exists=$(target_sql "$db" -v sub="$subscription" <<<"select count(*) from pg_subscription where subname = :'sub'")
  if [ "$exists" = 1 ]; then
    copy_missing_tables
    step="updating the subscription in place"
    target_sql "$db" -v sub="$subscription" -v pub="$publication" -v conn="$conn" <<'SQL'
ALTER SUBSCRIPTION :"sub" CONNECTION :'conn';
ALTER SUBSCRIPTION :"sub" SET PUBLICATION :"pub" WITH (refresh = false);
ALTER SUBSCRIPTION :"sub" ENABLE;
ALTER SUBSCRIPTION :"sub" REFRESH PUBLICATION;
SQL
    say "subscription $subscription kept (altered in place, refreshed: publishing $published)"
  else
    step="checking that the target tables are empty"
    # read from the tables themselves: statistics are gone after a crash, and a promoted standby has none
    busy=$(
      target_sql "$db" <<'SQL'
select string_agg(format('%I.%I', n.nspname, c.relname), ', ')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
   and (xpath('/row/c/text()', query_to_xml(format('select exists (select from %I.%I) as c', n.nspname, c.relname), false, true, '')))[1]::text = 'true'
SQL
    )
    [ -z "$busy" ] || fail "tables of $db already hold rows ($busy): a new subscription would copy over them; empty them, or keep the subscription that filled them"
    # after the check: a refused subscription leaves the target as it was
    copy_missing_tables
    step="creating the subscription"
    target_sql "$db" -v sub="$subscription" -v pub="$publication" -v conn="$conn" <<'SQL' || fail "CREATE SUBSCRIPTION was refused (the server log has the reason; the password is never in it: it is in the passfile)"
CREATE SUBSCRIPTION :"sub" CONNECTION :'conn' PUBLICATION :"pub";
SQL
    say "subscription $subscription created: the initial copy starts"
  fi

  step="waiting for the initial copy"
  for i in $(seq 3600); do
    pending=$(target_sql "$db" -v sub="$subscription" <<<"select count(*) filter (where r.srsubstate <> 'r') || '/' || count(*) from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid where s.subname = :'sub'")
    [ "${pending%%/*}" = 0 ] && break
    [ $((i % 20)) -ne 1 ] || say "initial copy: $pending tables still copying"
    sleep 0.5
  done
  [ "${pending%%/*}" = 0 ] || fail "the initial copy did not finish within 30 minutes ($pending tables still copying)"
  say "every table copied; changes stream from the source"
}

main "$@"
