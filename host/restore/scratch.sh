#!/bin/bash
# Run on the repository host, as root: one database of a stanza recovered to a moment into a
# scratch instance of its own (never a member's data directory: a folder made here, archiving
# off, reachable through its own socket only), the table (or the rows matching a condition)
# moved under a new schema, and that schema dumped to stdout for the leader. The scratch
# instance and its folder go when the script ends, whatever happened.
# Header variables: stanza, backup_user, repo_path, database, schema, table, target_type, target,
# where (may be empty), restored_schema.
set -euo pipefail
# shellcheck disable=SC2154 # the header sets them
: "${backup_user:?}"
pgbin=/usr/lib/postgresql/15/bin

fail() {
  echo "restore-table: $*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  trap - EXIT
  if [ -n "${scratch:-}" ] && [ -d "$scratch" ]; then
    runuser -u "$backup_user" -- "$pgbin/pg_ctl" -D "$scratch/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$scratch"
  fi
  exit "$rc"
}

as_owner() { (cd / && runuser -u "$backup_user" -- "$@"); }
# the database's name as PGDATABASE: libpq never reads it as connection settings, as it would `-d 'a=b'`
scratch_sql() { as_owner env PGDATABASE="$1" "$pgbin/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$scratch" -p 5432 -c "$2"; }
# psql's error line alone
first_error() { awk '/ERROR:|FATAL:/ { sub(/^.*(ERROR|FATAL): */, ""); print; exit }'; }

main() {
  : "${stanza:?}" "${backup_user:?}" "${repo_path:?}" "${database:?}" "${schema:?}" "${table:?}" "${target_type:?}" "${target:?}" "${restored_schema:?}"
  command -v pgbackrest >/dev/null || fail "pgbackrest is not installed on the repository host"
  [ -x "$pgbin/postgres" ] || fail "PostgreSQL 15's server is not installed on the repository host (apt-get install postgresql-15): the scratch instance needs it"
  trap cleanup EXIT
  scratch=$(mktemp -d /var/tmp/pg-replication-restore.XXXXXX)
  chown "$backup_user:" "$scratch"
  chmod 700 "$scratch"
  as_owner mkdir -m 700 "$scratch/data" "$scratch/conf.d"
  {
    printf '[%s]\nrepo1-path=%s\npg1-path=%s\nlog-level-console=warn\nlog-level-file=off\nlock-path=%s\n' \
      "$stanza" "$repo_path" "$scratch/data" "$scratch"
    # the stanza's second repository (S3), its keys included: the scratch folder is the owner's alone
    as_owner cat "/etc/pgbackrest/conf.d/$stanza.conf" "/etc/pgbackrest/conf.d/$stanza-s3-credentials.conf" 2>/dev/null | grep '^repo2-' || true
  } | as_owner tee "$scratch/pgbackrest.conf" >/dev/null

  local out exclusive=() from=()
  [ -z "${repo:-}" ] || from=(--repo="$repo")
  # an xid or an LSN names the mistake itself: the restore stops just before it
  [ "$target_type" = time ] || exclusive=(--target-exclusive)
  restore() {
    as_owner pgbackrest --config="$scratch/pgbackrest.conf" --config-include-path="$scratch/conf.d" --stanza="$stanza" \
      "$@" "${from[@]}" --type="$target_type" --target="$target" "${exclusive[@]}" --target-action=promote --archive-mode=off restore 2>&1
  }
  # only that database's files (the others come back empty); a database made after the backup
  # is not in its manifest: then the whole backup, and WAL replay creates it
  if ! out=$(restore --db-include="$database"); then
    if printf '%s\n' "$out" | grep -q 'ERROR: \[080\]'; then
      as_owner find "$scratch/data" -mindepth 1 -delete
      out=$(restore) || fail "pgbackrest restore: $(printf '%s\n' "$out" | grep -m1 -E 'ERROR|error' || printf '%s\n' "$out" | tail -n 1)"
    else
      fail "pgbackrest restore: $(printf '%s\n' "$out" | grep -m1 -E 'ERROR|error' || printf '%s\n' "$out" | tail -n 1)"
    fi
  fi

  # the members keep their configuration in /etc: the scratch instance gets a minimal one, its
  # limits at least the source's (recovery checks them against pg_control)
  local control limits
  control=$(as_owner "$pgbin/pg_controldata" -D "$scratch/data")
  limits=$(printf '%s\n' "$control" | awk -F':[[:space:]]*' '
    $1 == "max_connections setting" { print "max_connections = " $2 }
    $1 == "max_worker_processes setting" { print "max_worker_processes = " $2 }
    $1 == "max_wal_senders setting" { print "max_wal_senders = " $2 }
    $1 == "max_prepared_xacts setting" { print "max_prepared_transactions = " $2 }
    $1 == "max_locks_per_xact setting" { print "max_locks_per_transaction = " $2 }')
  {
    echo "listen_addresses = ''"
    echo "port = 5432"
    echo "unix_socket_directories = '$scratch'"
    echo "hba_file = '$scratch/data/pg_hba.conf'"
    echo "ident_file = '$scratch/data/pg_ident.conf'"
    echo "shared_buffers = 128MB"
    echo "archive_mode = off"
    echo "hot_standby = on"
    echo "wal_level = replica"
    printf '%s\n' "$limits"
  } | as_owner tee "$scratch/data/postgresql.conf" >/dev/null
  printf 'local all %s peer\n' "$backup_user" | as_owner tee "$scratch/data/pg_hba.conf" >/dev/null
  as_owner touch "$scratch/data/pg_ident.conf"
  # a recovery that cannot reach its target stops the server: pg_ctl then fails, the log says why
  if ! as_owner "$pgbin/pg_ctl" -D "$scratch/data" -l "$scratch/server.log" -w -t 900 start >/dev/null 2>&1; then
    fail "the scratch instance did not reach the target: $(first_error <"$scratch/server.log" || true)"
  fi
  for _ in $(seq 900); do
    [ "$(scratch_sql postgres 'select pg_is_in_recovery()' 2>/dev/null || true)" = f ] && break
    grep -q 'FATAL' "$scratch/server.log" && fail "recovery failed: $(first_error <"$scratch/server.log")"
    sleep 1
  done
  [ "$(scratch_sql postgres 'select pg_is_in_recovery()')" = f ] || fail "the scratch instance did not finish its recovery in 900 s"
  grep -q 'recovery stopping' "$scratch/server.log" ||
    fail "recovery did not stop at $target ($(grep -m1 -E 'LOG: +(last completed transaction|consistent recovery state)' "$scratch/server.log" | sed 's/^.*LOG: *//')): no change after the target was archived yet"

  local qualified="\"$schema\".\"$table\"" exists
  exists=$(scratch_sql "$database" "select to_regclass('$(printf '%s' "$qualified" | sed "s/'/''/g")') is not null") ||
    fail "database $database could not be read in the backup"
  [ "$exists" = t ] || fail "there was no table $schema.$table in database $database at $target"
  out=$(scratch_sql "$database" "create schema \"$restored_schema\"; alter table $qualified set schema \"$restored_schema\"" 2>&1) ||
    fail "$(printf '%s\n' "$out" | first_error)"
  local moved="\"$restored_schema\".\"$table\""
  # the copy stands alone beside the live table: no foreign key into live tables, no trigger firing
  out=$(scratch_sql "$database" "
    do \$\$ declare r record; begin
      for r in select conname from pg_constraint where conrelid = '$moved'::regclass and contype = 'f' loop
        execute format('alter table %s drop constraint %I', '$moved', r.conname);
      end loop;
      for r in select tgname from pg_trigger where tgrelid = '$moved'::regclass and not tgisinternal loop
        execute format('drop trigger %I on %s', r.tgname, '$moved');
      end loop;
    end \$\$" 2>&1) || fail "$(printf '%s\n' "$out" | first_error)"
  if [ -n "${where:-}" ]; then
    out=$(scratch_sql "$database" "delete from $moved where not coalesce(($where), false)" 2>&1) ||
      fail "WHERE is not a condition on $schema.$table: $(printf '%s\n' "$out" | first_error)"
  fi
  as_owner env PGDATABASE="$database" "$pgbin/pg_dump" -h "$scratch" -p 5432 -n "$restored_schema" --no-owner --no-privileges ||
    fail "pg_dump of the restored table failed"
}
main "$@"
