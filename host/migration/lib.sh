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
