#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Configuration: installs the conf.d includes and the managed pg_hba block, has the running server
# check them (pg_file_settings, pg_hba_file_rules) before anything is applied, then reloads, and
# restarts only when a changed setting needs it; a standby is back and streaming before the
# script ends. On a standby, settings that must not fall below the leader's are held at the
# leader's value (from pg_controldata) until the leader has lowered them: the settle pass after
# the leader's step lowers them then. A stopped standby is started; a stopped server without
# standby.signal is left stopped with its files installed and checked (the lead step starts the
# leader, the follow step decides for the others: a non-leader never starts writable). Nothing
# changed: nothing is touched, unless the server runs with less than its files say (an earlier
# run stopped between installing and applying them).

main() {
  : "${confdir:?}" "${include:?}" "${tuning:?}" "${hba:?}" "${hba_begin:?}" "${hba_end:?}" "${settle:?}"
  begin
  was_running=no
  reloaded=no
  restarted=no
  conf_file >"$tmp/conf"
  tuning_file >"$tmp/tuning"
  hba_block_file >"$tmp/hba_block"

  step="checking the server"
  stopped=no
  if running; then
    was_running=yes
  elif in_recovery; then
    say "postgresql ${cluster[*]} is down: starting it (a standby)"
    start_server || die "$reason"
    was_running=yes
  else
    stopped=yes
    say "postgresql ${cluster[*]} is down and not a standby: left stopped (the lead step starts the leader, the follow step the others)"
  fi

  step="preparing the files"
  if in_recovery && [ "$settle" = yes ]; then
    # after the leader's step: its new values reach this standby's pg_control once it has replayed
    # what the leader wrote at its restart
    wait_streaming 60 || true
    for _ in $(seq 300); do
      [ "$(sql -c "select coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true)")" = t ] && break
      sleep 0.1
    done
  fi
  if in_recovery; then
    # a standby refuses to run below its leader: hold such settings at the leader's value for now
    control=$(controldata)
    hold_at_leader "$tmp/tuning" "$tmp/conf"
  fi
  awk -v begin="$hba_begin" -v end="$hba_end" '
    $0 == begin { skip = 1; next }
    $0 == end { skip = 0; next }
    !skip { print }' "$hba" >"$tmp/hba_rest"
  cat "$tmp/hba_block" "$tmp/hba_rest" >"$tmp/hba"

  step="installing the files"
  # as postgres: the folders are postgres's, and root writes nothing through a link planted there
  [ -e "$hba.pg-replication.orig" ] || as_postgres cp --remove-destination --preserve=mode,timestamps "$hba" "$hba.pg-replication.orig"
  as_postgres mkdir -p -m 755 "$confdir/conf.d"
  install_file "$tmp/conf" "$include" 644
  install_file "$tmp/tuning" "$tuning" 644
  install_file "$tmp/hba" "$hba" 640
  if [ "$stopped" = yes ]; then
    step="checking the new files with the postmaster's own reading"
    check_offline
    committed=yes
    say "configuration installed; applied when the server starts"
    exit 0
  fi
  if [ ${#changed[@]} -eq 0 ] && ! behind_files; then
    committed=yes
    say "configuration unchanged"
    exit 0
  fi
  [ ${#changed[@]} -gt 0 ] || say "the files are in place but the server has not applied them all (an interrupted run): applying them"

  step="checking the new files with the server's own parser"
  errors=$(sql -c "select 'pg_hba.conf line ' || line_number || ': ' || error from pg_hba_file_rules where error is not null
                   union all select sourcefile || ' line ' || sourceline || ': ' || name || ': ' || error from pg_file_settings
                   where error is not null and error <> 'setting could not be applied'" | paste -sd ';' -)
  [ -z "$errors" ] || die "the server refuses the new configuration: $errors"
  check_offline

  step="reloading"
  reloaded=yes
  reload_server
  pending=$(sql -c "select string_agg(name, ', ' order by name) from pg_settings where pending_restart")
  if [ -z "$pending" ]; then
    committed=yes
    say "reloaded postgresql ${cluster[*]}"
    exit 0
  fi

  step="restarting for $pending"
  if in_recovery; then role=standby; else role=primary; fi
  # a standby is waited for only if it streamed before: one that cannot yet (its leader or the
  # replication role comes later in this update) is the follow step's business
  streamed=no
  [ "$role" = primary ] || [ "$(sql -c "select status from pg_stat_wal_receiver")" != streaming ] || streamed=yes
  say "restarting postgresql ${cluster[*]} ($role) for: $pending"
  restarted=yes
  try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
  start_server || die "$reason"
  if [ "$streamed" = yes ]; then
    step="waiting for the standby to stream again"
    wait_streaming 120 || die "the standby is not streaming 120 s after its restart"
    say "streaming again"
  fi
  committed=yes
}

# puts back the changed files and the server as it was
rollback() {
  restore_files
  if [ "$was_running" = yes ]; then
    if running; then
      [ "$reloaded" = no ] || reload_server
      [ "$restarted" = no ] || pg_ctlcluster "${cluster[@]}" restart -m fast >/dev/null 2>&1
    else
      pg_ctlcluster "${cluster[@]}" start >/dev/null 2>&1
    fi
  fi
}

# pg_file_settings says only "could not be applied" for a bad value, as for a pending restart:
# the postmaster's own reading of the files (-C exits after it) names the bad value
check_offline() {
  local checked
  if ! checked=$(as_postgres "$pgbin/postgres" -D "$datadir" -c config_file="$confdir/postgresql.conf" -C data_directory 2>&1); then
    die "the server refuses the new configuration: $(printf '%s\n' "$checked" | sed -n 's/^.*\(LOG\|FATAL\|ERROR\): *//p' | head -n 2 | paste -sd ';' -)"
  fi
}
# whether the running server is behind its files: one changed after it last read them, or a
# setting waits for a restart
behind_files() {
  local newest
  # to the nanosecond: a file written in the second of the last reload, after it, is newer
  newest=$(stat -c %.9Y "$include" "$tuning" "$hba" 2>/dev/null | sort -n | tail -n 1)
  [ "$(sql -c "select pg_conf_load_time() < to_timestamp(${newest:-0})")" = t ] && return 0
  [ -n "$(sql -c "select string_agg(name, ', ') from pg_settings where pending_restart")" ]
}
# a standby's pg_control holds the values its leader runs with
leader_value() { control_field "$control" "$2"; }
held() {
  echo "$1 = $2 # held at the leader's value until the leader runs with $3" >>"$tmp/conf"
  say "holding $1 at $2 (the leader's) until the leader runs with $3"
}

main "$@"
