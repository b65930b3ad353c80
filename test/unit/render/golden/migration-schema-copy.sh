set -euo pipefail
host=pg1
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
src="host='10.77.0.10' port='5432' dbname='appdb' user='migrator' passfile='/var/lib/postgresql/.pg-replication-source.pgpass' sslmode='require' application_name='pg-replication schema copy' connect_timeout='10'"
db=appdb

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

# Schema copy: copies the roles the target lacks (with their SCRAM verifiers, so passwords stay
# the same; a role the target has already is never altered) and, into a target database that has
# no table yet, the source database's schema. A target database that already has tables is left
# as it is. The source's password stays in the passfile src names.

main() {
  : "${src:?}" "${db:?}"
  begin
  # postgres writes the schema here, and roles.sql holds verifiers: postgres's alone
  tmp=$(mktemp -d)
  chown postgres:postgres "$tmp"
  chmod 700 "$tmp"
  trap 'rm -rf "$tmp"' EXIT

  step="reading the source"
  # a role name with a control character could split the lines below into statements of its own
  odd=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$src" -c "select string_agg(quote_ident(rolname), ', ') from pg_authid where rolname ~ '[[:cntrl:]]'" 2>&1) || fail "$odd"
  [ -z "$odd" ] || fail "the source has roles whose names hold control characters ($odd): rename or drop them before the migration"
  owner=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$src" -c "select pg_get_userbyid(datdba) from pg_database where datname = current_database()" 2>&1) || fail "$owner"
  # per role, its name and the statement that creates it
  roles=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$src" <<'SQL' 2>&1
select rolname || E'\t' || format('CREATE ROLE %I WITH %s %s %s %s %s %s %s%s;', rolname,
         case when rolsuper then 'SUPERUSER' else 'NOSUPERUSER' end,
         case when rolinherit then 'INHERIT' else 'NOINHERIT' end,
         case when rolcreaterole then 'CREATEROLE' else 'NOCREATEROLE' end,
         case when rolcreatedb then 'CREATEDB' else 'NOCREATEDB' end,
         case when rolcanlogin then 'LOGIN' else 'NOLOGIN' end,
         case when rolreplication then 'REPLICATION' else 'NOREPLICATION' end,
         case when rolbypassrls then 'BYPASSRLS' else 'NOBYPASSRLS' end,
         case when rolpassword is null then '' else format(' PASSWORD %L', rolpassword) end)
  from pg_authid where rolname !~ '^pg_' and oid >= 16384
SQL
  ) || fail "$roles"

  step="copying the roles"
  have=$(target_sql postgres -c "select rolname from pg_roles")
  printf '%s\n' "$roles" | awk -F'\t' 'NR == FNR { have[$0] = 1; next } NF == 2 && !($1 in have) { print $2; n++ } END { if (!n) print "-- none" }' <(printf '%s\n' "$have") - >"$tmp/roles.sql"
  target_sql postgres -f "$tmp/roles.sql" >/dev/null || fail "creating the roles"
  say "roles copied: $(grep -c '^CREATE ROLE' "$tmp/roles.sql" || true) new"

  step="creating the target database"
  target_sql postgres -v db="$db" -v owner="$owner" <<'SQL' || fail "CREATE DATABASE was refused"
select format('CREATE DATABASE %I OWNER %I', :'db', :'owner') where not exists (select from pg_database where datname = :'db') \gexec
SQL

  step="copying the schema"
  tables=$(target_sql "$db" -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','p') and n.nspname not in ('pg_catalog','information_schema')")
  if [ "$tables" != 0 ]; then
    say "database $db already has $tables tables: schema left as it is"
    exit 0
  fi
  out=$(as_postgres "$pgbin/pg_dump" -w -d "$src" --schema-only --no-publications --no-subscriptions 2>&1 >"$tmp/schema.sql") || fail "$(printf '%s\n' "$out" | tail -n 1)"
  # one transaction: a schema that fails halfway leaves no table behind, so a rerun copies it whole
  target_sql "$db" --single-transaction -f "$tmp/schema.sql" >/dev/null || fail "the schema did not restore (nothing of it was kept)"
  say "schema copied into $db"
}

main "$@"
