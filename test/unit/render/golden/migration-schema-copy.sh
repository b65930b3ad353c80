set -euo pipefail
host=pg1
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
src="host='10.77.0.10' port='5432' dbname='appdb' user='migrator' passfile='/var/lib/postgresql/.pg-replication-source.pgpass' sslmode='require' application_name='pg-replication schema copy' connect_timeout='10'"
db=appdb

# shellcheck shell=bash
# What every script a host receives shares, before its library: `why`, the host's lock, and the
# session's watch.
#
# A step cancelled hard (the program killed, its connection cut) leaves its script running with
# nobody reading it: bash would go on, then die at its next line of output (SIGPIPE), at any
# point, with no exit trap to take the step back. watch_session turns that into an ordinary
# failure: a watcher sees the ssh session gone, stops what the script runs (servers it started
# have left its tree and are kept), then the script, whose handler (the library's
# session_ended) and exit trap take the step back.
# A script that no sshd runs (by hand, in a test) is not watched.

# the line of a command's output that says why it failed: the first error, else the last line
why() { printf '%s\n' "$1" | awk 'NF { last = $0 } /(FATAL|ERROR|error|failed):/ && !found { found = $0 } END { print (found ? found : last) }'; }

# lock_host: one run at a time on this host, from begin to the script's end, a migration's
# scripts included: a second run, or a cancelled one whose script goes on, would overwrite this
# one's .prev copies, or restart the server under a copy. The lock lives in a folder only root
# writes (/run/pg-replication), and is held by a flock process of its own that ends with this
# script (killed by the exit trap, or seeing it gone): a server this script starts inherits
# nothing that keeps it. Waits lock_wait seconds at most, then fails in one line.
lock_host() {
  local file=${lock_file:-/run/pg-replication/lock} wait=${lock_wait:-300} answer=""
  [ -n "${lock_file:-}" ] || install -d -o root -g root -m 700 /run/pg-replication
  # shellcheck disable=SC2016 # expanded by the inner sh
  exec 9< <(exec flock -o -w "$wait" "$file" sh -c 'echo locked; exec tail --pid="$1" -s 0.2 -f /dev/null >/dev/null' sh "$$" </dev/null 2>/dev/null)
  lock_holder=$!
  read -r answer <&9 || true
  exec 9<&-
  if [ "$answer" != locked ]; then
    # shellcheck disable=SC2154 # host: the script's header sets it
    echo "pg-replication on $host: taking the host's lock failed: another pg-replication run on this host has held $file for more than $wait s (a step still running, or a cancelled one whose script goes on): wait for it to end, then run again; the host is as it was before this step" >&2
    exit 1
  fi
}
unlock_host() { [ -z "${lock_holder:-}" ] || kill "$lock_holder" 2>/dev/null || true; }

# descendants PID SKIP...: every process under PID, parents first, but none of SKIP or under them
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    [[ " ${*:2} " != *" $child "* ]] || continue
    echo "$child"
    descendants "$child" "${@:2}"
  done
}

# watch_session: from the library's begin; the lock's holder is kept, so the lock lasts until the
# exit trap is done
watch_session() {
  local pid=$$ session="" comm
  while [ -z "$session" ] && [ "${pid:-1}" -gt 1 ]; do
    pid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    comm=$(cat "/proc/${pid:-1}/comm" 2>/dev/null || true)
    case $comm in sshd*) session=$pid ;; esac
  done
  [ -n "$session" ] || return 0
  trap 'unwatch; session_ended' TERM PIPE
  (
    while kill -0 "$session" 2>/dev/null && kill -0 "$$" 2>/dev/null; do sleep 0.5; done
    kill -0 "$$" 2>/dev/null || exit 0
    # read here: inside $(...) below, $BASHPID would be that subshell's own
    watcher=$BASHPID
    for child in $(descendants "$$" "$watcher" "${lock_holder:-}"); do kill -TERM "$child" 2>/dev/null || true; done
    kill -TERM "$$"
  ) </dev/null >/dev/null 2>&1 &
  session_watcher=$!
  # not a job of the script: its `wait` and `wait -n` must never wait for the watcher
  disown "$session_watcher"
}
# unwatch: first in every exit trap. The watcher ends, and a late TERM or a write to the closed
# session no longer stops the script: the trap's own work runs to its end.
unwatch() {
  trap : TERM PIPE
  [ -z "${session_watcher:-}" ] || kill "$session_watcher" 2>/dev/null || true
}

# shellcheck shell=bash
# What the migration's scripts share. The target cluster's leader receives each on stdin of
# `sudo -n bash -s`, like the host steps: a header of quoted values (render/migrationScripts.ts),
# this file, then the script's own file, whose last line runs its main.

begin() {
  : "${host:?}" "${pgbin:?}" "${datadir:?}"
  step="starting"
  lock_host
  watch_session
}
# nobody reads the failure line now: a script's exit trap (cleanup) takes its step back
session_ended() { exit 1; }

as_postgres() { (cd / && runuser -u postgres -- "$@"); }
sock() { sed -n 5p "$datadir/postmaster.pid"; }
port() { sed -n 4p "$datadir/postmaster.pid"; }
# target_sql DB PSQL_ARGS...: psql on the target's own server, through its socket (the name as
# PGDATABASE, which libpq never reads as connection settings, as it would `-d 'a=b'`)
target_sql() {
  local db=$1
  shift
  as_postgres env PGDATABASE="$db" "$pgbin/psql" -w -X -A -t -q -v ON_ERROR_STOP=1 -h "$(sock)" -p "$(port)" "$@"
}
# source_sql PSQL_ARGS...: psql on the source database, as postgres (its passfile holds the password)
source_sql() {
  as_postgres "$pgbin/psql" -w -X -A -t -q -v ON_ERROR_STOP=1 -d "${src:?}" "$@"
}
say() { echo "pg-replication migration on $host: $*"; }
# seconds_since EPOCHREALTIME: the seconds since then, to a tenth
seconds_since() { awk -v a="${1/,/.}" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f", b - a }'; }
# a script that defines undo (takes back what its step began, and says so in $undone) has it run first
fail() {
  undone=""
  ! declare -F undo >/dev/null || undo
  echo "pg-replication migration on $host: $step failed: $*${undone:+ ($undone)}" >&2
  exit 1
}

# Schema copy: copies the roles the target lacks (with their SCRAM verifiers, so passwords stay
# the same; a role the target has already is never altered), with their memberships and their
# settings, what the source sets for the database (where the target sets nothing of that name),
# and, into a target database that has no table yet, the source database's schema
# (pre-data: the subscription step builds the indexes and constraints after the rows). A
# target database that already has tables is left as it is. The source's password stays in the
# passfile src names. What the source answers is data: every statement is made by the target's
# own format(), names with %I, values as literals.

main() {
  : "${src:?}" "${db:?}"
  begin
  # postgres writes the schema and the source's roles (verifiers) here: postgres's alone
  tmp=$(mktemp -d)
  chown postgres:postgres "$tmp"
  chmod 700 "$tmp"
  trap 'rm -rf "$tmp"; unlock_host' EXIT

  step="reading the source"
  # a role name with a control character could split the lines below into statements of its own
  odd=$(source_sql -c "select string_agg(quote_ident(rolname), ', ') from pg_authid where rolname ~ '[[:cntrl:]]'" 2>&1) || fail "$odd"
  [ -z "$odd" ] || fail "the source has roles whose names hold control characters ($odd): rename or drop them before the migration"
  owner=$(source_sql -c "select pg_get_userbyid(datdba) from pg_database where datname = current_database()" 2>&1) || fail "$owner"
  # the roles, their memberships and their settings (in every database), as one JSON document:
  # data, which the target reads as a literal and quotes itself (psql writes it, as postgres)
  out=$(source_sql -o "$tmp/source-roles.json" <<'SQL' 2>&1
select json_build_object(
  'roles', (select coalesce(json_agg(json_build_object('name', rolname, 'super', rolsuper, 'inherit', rolinherit,
              'createrole', rolcreaterole, 'createdb', rolcreatedb, 'login', rolcanlogin, 'replication', rolreplication,
              'bypassrls', rolbypassrls, 'password', rolpassword) order by rolname), '[]')
              from pg_authid where rolname !~ '^pg_' and oid >= 16384),
  'members', (select coalesce(json_agg(json_build_object('role', r.rolname, 'member', m.rolname, 'admin', a.admin_option)
              order by m.rolname, r.rolname), '[]')
              from pg_auth_members a join pg_authid r on r.oid = a.roleid join pg_authid m on m.oid = a.member
             where m.rolname !~ '^pg_' and m.oid >= 16384),
  'settings', (select coalesce(json_agg(json_build_object('role', r.rolname, 'setting', u.c) order by r.rolname, u.n), '[]')
              from pg_db_role_setting s join pg_authid r on r.oid = s.setrole, unnest(s.setconfig) with ordinality as u(c, n)
             where s.setdatabase = 0 and r.rolname !~ '^pg_' and r.oid >= 16384),
  -- what is set for this database alone: for everyone (ALTER DATABASE … SET), and for one role in it
  'database', (select coalesce(json_agg(json_build_object('role', r.rolname, 'setting', u.c) order by r.rolname nulls first, u.n), '[]')
              from pg_db_role_setting s left join pg_authid r on r.oid = s.setrole, unnest(s.setconfig) with ordinality as u(c, n)
             where s.setdatabase = (select oid from pg_database where datname = current_database())
               and (s.setrole = 0 or (r.rolname !~ '^pg_' and r.oid >= 16384))))
SQL
  ) || fail "$(printf '%s\n' "$out" | tail -n 1)"

  # setting(NAME=VALUE): `NAME = VALUE` for ALTER … SET, the name quoted part by part, the value
  # as a literal (a list that PostgreSQL stores quoted, search_path say, as one literal per element)
  # written as postgres, whose folder it is: root writes nothing there
  as_postgres tee "$tmp/setting.sql" >/dev/null <<'SQL'
create function pg_temp.setting(setting text) returns text language sql immutable as $$
  select format('%s = %s',
           (select string_agg(quote_ident(p), '.' order by o) from unnest(string_to_array(n.name, '.')) with ordinality as x(p, o)),
           case when lower(n.name) in ('search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries')
                then coalesce((select string_agg(quote_literal(case when e[1] like '"%' then replace(substr(e[1], 2, length(e[1]) - 2), '""', '"') else e[1] end), ', ' order by o)
                                 from regexp_matches(n.value, '("([^"]|"")*"|[^", ]+)', 'g') with ordinality as l(e, o)), '''''')
                else quote_literal(n.value) end)
    from (select split_part(setting, '=', 1) as name, substr(setting, strpos(setting, '=') + 1) as value) n
$$;
SQL

  step="copying the roles"
  # one transaction: the roles the target lacks, their memberships and their settings, or none of them
  out=$(target_sql postgres --single-transaction -v source_file="$tmp/source-roles.json" -v setting_file="$tmp/setting.sql" <<'SQL' 2>&1
\set source `cat :'source_file'`
\i :setting_file
create temp table new_roles on commit drop as
  select r.* from json_to_recordset(:'source'::json -> 'roles')
    as r(name text, super bool, inherit bool, createrole bool, createdb bool, login bool, replication bool, bypassrls bool, password text)
   where not exists (select from pg_roles where rolname = r.name);
select format('CREATE ROLE %I WITH %s %s %s %s %s %s %s%s;', name,
         case when super then 'SUPERUSER' else 'NOSUPERUSER' end,
         case when inherit then 'INHERIT' else 'NOINHERIT' end,
         case when createrole then 'CREATEROLE' else 'NOCREATEROLE' end,
         case when createdb then 'CREATEDB' else 'NOCREATEDB' end,
         case when login then 'LOGIN' else 'NOLOGIN' end,
         case when replication then 'REPLICATION' else 'NOREPLICATION' end,
         case when bypassrls then 'BYPASSRLS' else 'NOBYPASSRLS' end,
         case when password is null then '' else format(' PASSWORD %L', password) end)
  from new_roles order by name \gexec
-- the memberships a new role takes part in, when both roles are there now
select format('GRANT %I TO %I%s;', m.role, m.member, case when m.admin then ' WITH ADMIN OPTION' else '' end)
  from json_to_recordset(:'source'::json -> 'members') as m(role text, member text, admin bool)
 where (m.role in (select name from new_roles) or m.member in (select name from new_roles))
   and exists (select from pg_roles where rolname = m.role) and exists (select from pg_roles where rolname = m.member) \gexec
-- a new role's settings
select format('ALTER ROLE %I SET %s;', x.role, pg_temp.setting(x.setting))
  from json_to_recordset(:'source'::json -> 'settings') as x(role text, setting text)
 where x.role in (select name from new_roles) \gexec
select 'roles copied: ' || count(*) || ' new' from new_roles;
SQL
  ) || fail "creating the roles, their memberships and settings (none kept): $(why "$out")"
  say "$(printf '%s\n' "$out" | tail -n 1)"

  step="creating the target database"
  target_sql postgres -v db="$db" -v owner="$owner" <<'SQL' || fail "CREATE DATABASE was refused"
select format('CREATE DATABASE %I OWNER %I', :'db', :'owner') where not exists (select from pg_database where datname = :'db') \gexec
SQL

  step="copying the database's settings"
  # what the source sets for its database, for everyone and for each role in it (the roles are
  # all here now), where the target sets nothing of that name: a setting the target has is never
  # altered; the read-only default a cutover's freeze leaves is never copied
  out=$(target_sql postgres --single-transaction -v db="$db" -v source_file="$tmp/source-roles.json" -v setting_file="$tmp/setting.sql" <<'SQL' 2>&1
\set source `cat :'source_file'`
\i :setting_file
create temp view missing as
  select x.role, x.setting
    from json_to_recordset(:'source'::json -> 'database') as x(role text, setting text)
   where (x.role is null or exists (select from pg_roles where rolname = x.role))
     and lower(split_part(x.setting, '=', 1)) <> 'default_transaction_read_only'
     and not exists (select from pg_db_role_setting s, unnest(s.setconfig) c
                      where s.setdatabase = (select oid from pg_database where datname = :'db')
                        and s.setrole = coalesce((select oid from pg_roles where rolname = x.role), 0)
                        and lower(split_part(c, '=', 1)) = lower(split_part(x.setting, '=', 1)));
select 'database settings copied: ' || count(*) from missing;
select case when role is null then format('ALTER DATABASE %I SET %s;', :'db', pg_temp.setting(setting))
            else format('ALTER ROLE %I IN DATABASE %I SET %s;', role, :'db', pg_temp.setting(setting)) end
  from missing \gexec
SQL
  ) || fail "nothing of them was kept: $(why "$out")"
  say "$(printf '%s\n' "$out" | grep -m 1 '^database settings copied: ')"

  step="copying the schema"
  tables=$(target_sql "$db" -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','p') and n.nspname not in ('pg_catalog','information_schema')")
  if [ "$tables" != 0 ]; then
    say "database $db already has $tables tables: schema left as it is"
    exit 0
  fi
  # the pre-data section: the tables without their indexes, constraints and triggers, which the
  # subscription step builds after the rows (subscription.sh, copy_at_snapshot), as pg_restore would
  out=$(as_postgres "$pgbin/pg_dump" -w -d "$src" --schema-only --section=pre-data --no-publications --no-subscriptions 2>&1 >"$tmp/schema.sql") || fail "$(printf '%s\n' "$out" | tail -n 1)"
  # one transaction: a schema that fails halfway leaves no table behind, so a rerun copies it whole
  target_sql "$db" --single-transaction -f "$tmp/schema.sql" >/dev/null || fail "the schema did not restore (nothing of it was kept)"
  say "schema copied into $db (tables first: their indexes and constraints come after the rows)"
}

main "$@"
