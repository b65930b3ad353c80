#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Refresh, on the leader (or a cluster's restore from its own backups: source_mode=own, verb=restore,
# no masking, other roles keep their logins, archiving on): another stack's backup restored over this cluster's data, read from that
# stack's repository through a read-only account (never its members). Only the admin's lines open
# until the end; this stack's roles get this stack's passwords and every other login role loses
# its login; the masking rules run; the masked tables are rewritten; archiving (off through all
# of it) and the client lines come back with a restart. Until the restore begins, a failure
# leaves the host as it was; after it, the server stays closed to all but the admin, and a new
# refresh finishes the job.
# Header variables: hba, stanza, source_mode (reader or own), verb, repo_address, repo_port, repo_account, repo_path, repo_known,
# target_type, target_time, masked_databases, masked_tables; reader_key, admin_hba, roles_sql
# and masking_sql print their texts.

rollback() {
  if [ "$restoring" = yes ]; then
    if running; then as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1 || true; fi
    return
  fi
  restore_files
  if [ "$stopped" = yes ]; then pg_ctlcluster "${cluster[@]}" start >/dev/null 2>&1 || true; fi
  [ "$closed" = no ] || ! running || reload_server
}

# after the restore began, the data is neither this cluster's nor masked: the message says so
on_refresh_exit() {
  local rc=$?
  unwatch
  if [ "$rc" -ne 0 ] && [ "$committed" = no ] && [ "$restoring" = yes ]; then
    trap - EXIT
    set +e
    rollback
    echo "pg-replication on $host: $step failed: ${reason:-exit status $rc}; the server is stopped, its pg_hba admits only the admin: run the ${verb:?} again" >&2
    [ -z "${ptmp:-}" ] || rm -rf "$ptmp"
    rm -rf "$tmp"
    unlock_host
    exit "$rc"
  fi
  [ -z "${ptmp:-}" ] || rm -rf "$ptmp"
  # on_exit reads the script's status from $?
  set +e
  (exit "$rc")
  on_exit
}

# the source's repository through this stack's read-only account: its key, known_hosts, ssh and
# pgBackRest configuration in a folder of postgres's alone (pgBackRest runs as postgres)
reader_config() {
  : "${stanza:?}" "${repo_address:?}" "${repo_port:?}" "${repo_account:?}" "${repo_path:?}" "${repo_known:?}"
  ptmp=$(as_postgres mktemp -d /tmp/pg-replication-refresh.XXXXXX)
  reader_key | private_file key
  printf '%s\n' "$repo_known" | private_file known_hosts
  # shellcheck disable=SC2016 # "$@" is the wrapper's own
  printf '#!/bin/sh\nexec ssh -i %s/key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s/known_hosts "$@"\n' "$ptmp" "$ptmp" |
    private_file ssh
  as_postgres chmod 700 "$ptmp/ssh"
  printf '[global]\nrepo1-host=%s\nrepo1-host-port=%s\nrepo1-host-user=%s\nrepo1-path=%s\nrepo1-host-config=/dev/null\ncmd-ssh=%s/ssh\nlog-level-console=warn\nlog-level-file=off\nlock-path=%s\n[%s]\npg1-path=%s\n' \
    "$repo_address" "$repo_port" "$repo_account" "$repo_path" "$ptmp" "$ptmp" "$stanza" "$datadir" |
    private_file pgbackrest.conf
  as_postgres mkdir -m 700 "$ptmp/conf.d"
  pgbr() { as_postgres pgbackrest --config="$ptmp/pgbackrest.conf" --config-include-path="$ptmp/conf.d" --stanza="$stanza" "$@"; }
}

# private_file NAME: stdin as $ptmp/NAME, postgres's alone
# shellcheck disable=SC2016 # expanded by the inner sh
private_file() { as_postgres sh -c 'umask 077; cat >"$1"' sh "$ptmp/$1"; }
seconds() { echo $(($(date +%s) - $1)); }

main() {
  : "${hba:?}" "${stanza:?}" "${source_mode:?}" "${verb:?}" "${target_type:?}"
  begin
  trap on_refresh_exit EXIT
  restoring=no stopped=no closed=no
  local t0 started out db
  t0=$(date +%s)

  step="checking the leader"
  command -v pgbackrest >/dev/null || die "pgbackrest is not installed on this host (apt-get install pgbackrest)"
  # a cluster's own restore is a recovery: its leader may be down
  running || [ "$source_mode" = own ] || die "the server is not running: a refresh starts from a healthy leader"
  in_recovery && die "this member is a standby: a refresh runs on the leader"

  step="reaching the repository"
  if [ "$source_mode" = own ]; then
    pgbr() { as_postgres pgbackrest --stanza="$stanza" "$@"; }
  else
    reader_config
  fi
  out=$(pgbr --output=json info 2>&1) || die "pgbackrest info of stanza $stanza: $(why "$out")"
  printf '%s\n' "$out" | grep -q '"label"' || die "stanza $stanza has no backup yet: take one first (make backup)"

  step="closing the server to all but the admin"
  admin_hba >"$tmp/hba"
  install_file "$tmp/hba" "$hba" 640
  closed=yes
  if running; then
    reload_server
    sql -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()" >/dev/null
    say "only the admin's lines are open until the $verb ends"
    step="stopping the server"
    try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
    stopped=yes
  fi

  step="restoring the backup (delta)"
  restoring=yes
  started=$(date +%s)
  local target=() archive=()
  case $target_type in
    default) ;;
    time) target=(--type=time --target="$target_time" --target-action=promote) ;;
    # an xid or an LSN names the mistake itself: the restore stops just before it
    *) target=(--type="$target_type" --target="$target_time" --target-exclusive --target-action=promote) ;;
  esac
  # another cluster's data is not this one's to archive until it is masked
  [ "$source_mode" = own ] || archive=(--archive-mode=off)
  # no hot standby while it replays: this cluster's limits (max_connections…) may be below the
  # source's, which would pause a hot standby's recovery for good
  out=$(pgbr --delta "${archive[@]}" --recovery-option=hot_standby=off "${target[@]}" restore 2>&1) || die "pgbackrest restore: $(why "$out")"
  say "restored in $(seconds "$started") s"

  step="replaying the WAL"
  started=$(date +%s)
  # pg_ctl waits for connections, which open only once recovery ends
  try pg_ctlcluster "${cluster[@]}" start -- -t 86400 || die "$reason"
  for _ in $(seq 3600); do
    [ "$(sql -c "select pg_is_in_recovery()" 2>/dev/null)" = f ] && break
    sleep 1
  done
  [ "$(sql -c "select pg_is_in_recovery()")" = f ] || die "the server is still recovering after an hour (its log: /var/log/postgresql)"
  say "recovered and promoted in $(seconds "$started") s: $(sql -c "select 'system ' || system_identifier || ', timeline ' || timeline_id from pg_control_system(), pg_control_checkpoint()")"

  step="giving this stack's roles their passwords"
  roles_sql | sql -f - >/dev/null
  if [ "$source_mode" = own ]; then
    say "this stack's roles have this stack's passwords"
  else
    say "this stack's roles have this stack's passwords; $(sql -c "select count(*) from pg_authid where not rolcanlogin and rolpassword is null and oid >= 16384") other roles have no login"
  fi

  step="masking"
  started=$(date +%s)
  # shellcheck disable=SC2154 # the header sets it (an empty array counts as unset for ${a[*]?})
  for db in "${masked_databases[@]}"; do
    out=$(masking_sql "$db" | as_postgres env PGDATABASE="$db" "$pgbin/psql" -w -X -v ON_ERROR_STOP=1 -h "$(sed -n 5p "$datadir/postmaster.pid")" -p "$(sed -n 4p "$datadir/postmaster.pid")" -f - 2>&1) ||
      die "masking $db: $(why "$out")"
    printf '%s\n' "$out" | awk -v db="$db" '/^UPDATE [0-9]+$/ { print "rows " db " " ++n " " $2 }' >>"$tmp/rows"
  done
  report_masked
  say "masked in $(seconds "$started") s"
  report_unmasked

  step="removing the restore's recovery settings"
  sql -c "alter system reset restore_command" -c "alter system reset recovery_target_time" -c "alter system reset recovery_target_action" \
    -c "alter system reset recovery_target" -c "alter system reset recovery_target_lsn" -c "alter system reset recovery_target_xid" \
    -c "alter system reset recovery_target_name" -c "alter system reset archive_mode" -c "alter system reset hot_standby" >/dev/null
  # the segments that held the unmasked rows are recycled, never archived (archiving was off)
  sql -c "select pg_switch_wal()" -c "checkpoint" >/dev/null

  step="opening the client lines"
  restore_files
  changed=()
  try pg_ctlcluster "${cluster[@]}" restart -m fast || die "$reason"
  committed=yes
  say "$([ "$verb" = restore ] && echo restored || echo refreshed) from stanza $stanza ($( [ "$target_type" = default ] && echo "its latest point" || echo "$target_time")) in $(seconds "$t0") s; clients may connect"
}

# one line per masked table: its rows, its columns
report_masked() {
  local i=0 entry db table columns rows
  declare -A seen
  # shellcheck disable=SC2154 # the header sets it
  for entry in "${masked_tables[@]}"; do
    db=${entry%%:*} entry=${entry#*:}
    table=${entry%%:*} columns=${entry#*:}
    seen[$db]=$((${seen[$db]:-0} + 1))
    rows=$(awk -v db="$db" -v n="${seen[$db]}" '$2 == db && $3 == n { print $4 }' "$tmp/rows")
    say "masked $db.$table: ${rows:-0} rows, columns ${columns//,/, }"
    i=$((i + 1))
  done
}

# columns whose name says personal data, in any database, that no rule masks: named, not masked
report_unmasked() {
  local db column masked=" "
  # shellcheck disable=SC2154 # the header sets it
  for db in "${masked_tables[@]}"; do
    local tc=${db#*:} cols
    cols=${tc#*:}
    for column in ${cols//,/ }; do masked+="${db%%:*}.${tc%%:*}.$column "; done
  done
  local dbs=()
  mapfile -t dbs < <(sql -c "select datname from pg_database where datallowconn and not datistemplate and datname <> 'postgres'")
  for db in "${dbs[@]}"; do
    while IFS= read -r column; do
      [ -n "$column" ] || continue
      case $masked in *" $db.$column "*) continue ;; esac
      say "needs attention: $db.$column looks like personal data and no masking rule covers it"
    done < <(as_postgres env PGDATABASE="$db" "$pgbin/psql" -w -X -A -t -q -h "$(sed -n 5p "$datadir/postmaster.pid")" -p "$(sed -n 4p "$datadir/postmaster.pid")" -c \
      "select table_schema || '.' || table_name || '.' || column_name from information_schema.columns c join pg_class r on r.oid = (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass and r.relkind in ('r', 'p') where table_schema not in ('pg_catalog', 'information_schema') and column_name ~* '(e_?mail|phone|mobile|(first|last|full|sur|given|user)_?name|^name$|address|birth|ssn|passport|iban|card)' order by 1")
  done
}

main "$@"
