#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Standby: makes the member a streaming standby of the leader. A member that already is one keeps
# its data: it is started if stopped, or repointed if it follows another leader; rebuilt only
# when the leader no longer has the WAL it needs (a standby holds nothing of its own). A former
# leader of this cluster rejoins without a copy when its history allows; when it does not, it is
# rebuilt and its own data directory is kept aside, never deleted. A member that is not yet a
# standby is rebuilt: stop, data directory moved aside, pg_basebackup through the member's own
# physical slot on the leader, standby.signal, start; the old data directory comes back if any
# of that fails. A member whose data directory holds data of its own (running or stopped) is
# rebuilt only on a new, non-empty rebuild token; only then is its old directory deleted.

main() {
  : "${standby_include:?}" "${old_standby_include:?}" "${include:?}" "${tuning:?}" "${stamp:?}" "${token?}" "${slot:?}" "${conn:?}" "${leader:?}" "${server_log:?}" "${start_conf:?}" "${fence_mark:?}"
  begin
  prev="$datadir.pg-replication-prev"
  was_running=no
  moved=no
  restoring=no
  signalled=no
  # what becomes of the old data directory once the new standby streams: deleted, or kept aside
  keep_as=""
  standby_file >"$tmp/standby"

  step="checking the member"
  running && was_running=yes
  if [ -e "$prev" ]; then
    # left by a host that died mid-rebuild: the data directory it holds is the member's own
    die "$prev exists (an interrupted rebuild); move it back over $datadir or remove it, then run again"
  fi
  done_token=$(cat "$stamp" 2>/dev/null || true)
  # only a new, non-empty token asks for a rebuild: a token removed or emptied asks for nothing
  requested=no
  if [ -n "$token" ] && [ "$token" != "$done_token" ]; then requested=yes; fi

  step="checking the leader"
  read_leader_system "$conn" || die "cannot reach $leader for replication: $reason"
  control=$(controldata)
  own_system=$(control_field "$control" "Database system identifier")
  # a hot standby refuses to run below its leader: hold such settings at the leader's value
  rm -f "$old_standby_include"
  hold_at_leader "$tuning" "$include"

  if in_recovery && [ "$requested" = no ] && [ "$own_system" = "$leader_system" ]; then
    step="following $leader"
    ensure_slot || die "cannot keep slot $slot on $leader: $reason"
    install_file "$tmp/standby" "$standby_include" 644
    from=$(log_lines)
    if ! running; then
      say "the standby was stopped: starting it (its data is kept)"
      start_server || die "$reason"
    elif [ ${#changed[@]} -gt 0 ]; then
      say "pointing the standby at $leader"
      reload_server
    fi
    step="waiting for the standby to stream from $leader"
    if wait_streaming 60; then
      drop_own_stale_slots
      committed=yes
      autostart_again
      say "standby of $leader: streaming"
      exit 0
    fi
    wal_gone "$from" || wal_gone "$(($(log_lines) - 200))" ||
      die "the standby does not stream from $leader (its log: $server_log): is $leader reachable, and does its pg_hba admit this member?"
    say "the WAL it needs is gone from $leader (recycled before it got it): rebuilding it from $leader (a standby holds nothing of its own)"
    as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1 || true
    requested=wal
  fi

  if ! in_recovery && [ "$requested" = no ] && [ "$own_system" = "$leader_system" ]; then
    # a former leader of this cluster (switchover or failover): follow the new one, no copy
    step="rejoining $leader as a standby"
    say "a former leader of this cluster: rejoining $leader as a standby"
    ensure_slot || die "cannot keep slot $slot on $leader: $reason"
    if running; then try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"; fi
    read_leader_system "$conn" || die "cannot reach $leader for replication: $reason"
    install_file "$tmp/standby" "$standby_include" 644
    signal_standby
    signalled=yes
    if can_follow_leader "$conn" && start_server && wait_streaming 30; then
      drop_own_stale_slots
      committed=yes
      autostart_again
      say "standby of $leader: rejoined and streaming"
      exit 0
    fi
    as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1 || true
    rm -f "$datadir/standby.signal"
    signalled=no
    # it may hold transactions the leader never got: its directory is kept, never deleted here
    keep_as="$datadir.pg-replication-diverged-$(date -u +%Y%m%dT%H%M%SZ)"
    say "it cannot follow $leader (its history has diverged): rebuilding it from $leader; its own data directory is kept as $keep_as"
  fi

  step="checking that the member may be rebuilt"
  if [ "$requested" = no ] && [ "$own_system" != "$leader_system" ]; then
    own=$(holds_data)
    [ -z "$own" ] || die "it is not a standby of $leader and its data directory holds $own (running or not); set its rebuild token in config to replace it with a copy of the leader"
  fi

  if delta_ready; then rebuild_from_backup; fi

  step="stopping the member"
  say "rebuilding as a standby of $leader (pg_basebackup)"
  stop_for_replacement
  mv "$datadir" "$prev"
  moved=yes
  # made by postgres in its own folder: a link planted at the name is no way into root's
  as_postgres mkdir -m 700 "$datadir"

  step="pg_basebackup from $leader"
  # a slot left by an earlier attempt holds WAL from its own start: replace it, and reserve WAL
  # from now on before the copy starts (pg_basebackup's own -C creates it later, and a checkpoint in
  # between, say another standby's copy, can recycle a segment the copy still needs)
  as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true
  ensure_slot || die "cannot create slot $slot on $leader: $reason"
  if ! as_postgres "$pgbin/pg_basebackup" -w -d "$conn" -D "$datadir" -X stream -S "$slot" -c fast -P -v 2>&1 |
    tr '\r' '\n' | awk '/kB \(/ { if (++n % 20 != 1) next } { print; fflush() }'; then
    die "pg_basebackup from $leader failed (see above)"
  fi
  signal_standby
  install_file "$tmp/standby" "$standby_include" 644

  step="starting the standby"
  start_server || die "$reason"
  step="waiting for the new standby to stream from $leader"
  wait_streaming 120 || die "the new standby does not stream from $leader"
  drop_own_stale_slots
  write_stamp "$token"
  committed=yes
  autostart_again
  if [ -n "$keep_as" ]; then
    mv "$prev" "$keep_as"
    say "standby of $leader: rebuilt and streaming; its former data directory is $keep_as (remove it once nothing in it is needed)"
    exit 0
  fi
  # the old copy can be large: remove it in the background, detached from this SSH session
  mv "$prev" "$prev.removing.$$"
  setsid rm -rf "$prev.removing.$$" </dev/null >/dev/null 2>&1 &
  say "standby of $leader: rebuilt and streaming"
}

# delta_ready: whether a rebuild may restore the stanza's latest backup over this member's own
# files (rebuild_stanza set): only over a data directory of this cluster's system that is not to
# be kept aside, and only when the repository holds a backup; otherwise the leader is copied
delta_ready() {
  [ -n "${rebuild_stanza:-}" ] && [ "$own_system" = "$leader_system" ] && [ -z "$keep_as" ] || return 1
  as_postgres test -f "$datadir/PG_VERSION" || return 1
  if ! as_postgres pgbackrest --stanza="$rebuild_stanza" --output=json info 2>/dev/null | grep -q '"backup":\[{'; then
    say "stanza $rebuild_stanza holds no backup this member can read: copying the leader instead"
    return 1
  fi
}

# rebuild_from_backup: pgbackrest restore --delta of the latest backup (only the files that differ
# are written), then the archived WAL and the stream. Its old files are overwritten in place, so
# nothing is kept aside: until it streams, start.conf says manual (a half-restored directory
# never starts by itself) and a failure leaves it stopped for a rerun to finish.
rebuild_from_backup() {
  step="stopping the member"
  say "rebuilding as a standby of $leader from stanza $rebuild_stanza's latest backup (pgbackrest restore --delta: only what differs is written)"
  stop_for_replacement
  was_running=no
  restoring=yes
  if [ "$(grep -v '^[[:space:]]*#' "$start_conf" 2>/dev/null | tr -d '[:space:]')" != manual ]; then
    printf '%s\n' "$fence_mark (a rebuild from the backups is under way): it starts by hand only, until it streams" manual |
      write_as_postgres "$start_conf" 644 || die "cannot write $start_conf"
  fi
  step="pgbackrest restore --delta from stanza $rebuild_stanza"
  as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true
  ensure_slot || die "cannot create slot $slot on $leader: $reason"
  local out
  out=$(as_postgres pgbackrest --stanza="$rebuild_stanza" --delta --type=standby restore 2>&1) ||
    die "$(why "$out")"
  # the server's default follows the latest timeline; a recovery_target_timeline removed once the
  # server runs would wait for a restart (it is read at start only), so none is left to remove
  as_postgres sed -i -e '/^recovery_target_timeline = /d' "$datadir/postgresql.auto.conf" ||
    die "cannot edit $datadir/postgresql.auto.conf"
  install_file "$tmp/standby" "$standby_include" 644

  step="starting the standby"
  start_server || die "$reason"
  step="waiting for the standby to replay the archived WAL and stream from $leader"
  wait_streaming 600 || die "the restored standby does not stream from $leader (its log: $server_log)"
  # streaming now: the archive is read no more (a member promoted by hand may archive a timeline
  # that is not the leader's, and a standby reading the archive would follow it)
  step="removing the restore's recovery settings"
  as_postgres sed -i -e '/^# Recovery settings generated by pgBackRest/d' -e '/^restore_command = /d' \
    "$datadir/postgresql.auto.conf" || die "cannot edit $datadir/postgresql.auto.conf"
  reload_server
  drop_own_stale_slots
  write_stamp "$token"
  committed=yes
  autostart_again
  say "standby of $leader: rebuilt from the backups and streaming"
  exit 0
}

rollback() {
  if [ "$restoring" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m immediate >/dev/null 2>&1
    restore_files
    say "the member stays stopped (start.conf manual): its data directory is partly restored; run up again to finish the rebuild"
    return
  fi
  if [ "$moved" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m immediate >/dev/null 2>&1
    rm -rf "$datadir"
    mv "$prev" "$datadir"
  elif [ "$signalled" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1
    rm -f "$datadir/standby.signal"
  fi
  restore_files
  if [ "$was_running" = yes ] && ! running; then pg_ctlcluster "${cluster[@]}" start >/dev/null 2>&1; fi
}
# stop_for_replacement: stops a member whose data directory is about to be replaced. Immediate:
# the pages it has not written yet are not worth writing (at scale 200 a fast stop spent 3 s on
# them), and a rollback that starts the old directory again replays its WAL, which keeps every
# commit. A directory kept aside (keep_as) was stopped cleanly before this.
stop_for_replacement() {
  if running; then try pg_ctlcluster "${cluster[@]}" stop -m immediate || die "$reason"; fi
}
# the leader keeps a physical slot for this member, so that it never recycles WAL the member needs
ensure_slot() {
  local out
  out=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "CREATE_REPLICATION_SLOT $slot PHYSICAL RESERVE_WAL" 2>&1) && return 0
  case "$out" in *"already exists"*) return 0 ;; esac
  reason=$(why "$out")
  return 1
}
# slots this member kept while it was a leader hold WAL for nobody now
drop_own_stale_slots() {
  sql -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like 'pgr\_%' and not active" >/dev/null 2>&1 || true
}
# wal_gone: whether the server's log says, since LINE, that the leader no longer has the WAL this
# standby needs (recycled before it got it): a standby holds nothing of its own, so it is rebuilt
wal_gone() {
  tail -n +"${1:-1}" "$server_log" 2>/dev/null | grep -q 'requested WAL segment [0-9A-F]* has already been removed'
}
log_lines() { wc -l <"$server_log" 2>/dev/null || echo 0; }
# write_stamp TOKEN: the rebuild stamp, in postgres's folder: written as postgres and renamed into
# place (a link planted at its name is replaced, not followed)
write_stamp() { printf '%s\n' "$1" | write_as_postgres "$stamp" 644; }
leader_value() { as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "SHOW $1" 2>/dev/null || true; }
held() {
  echo "$1 = $2 # held at the leader's value" >>"$tmp/standby"
  say "holding $1 at $2, the leader's (this member alone would run with $3)"
}

# a member its fence step kept from starting by itself (start.conf manual) starts with the host
# again once it is a streaming standby: only the mark the fence step wrote is undone
autostart_again() {
  grep -qF "$fence_mark" "$start_conf" 2>/dev/null || return 0
  if echo auto | write_as_postgres "$start_conf" 644; then
    say "$start_conf: auto again (it was fenced while marked down)"
  else
    say "could not set $start_conf back to auto: it will not start by itself at boot until it says auto"
  fi
}

main "$@"
