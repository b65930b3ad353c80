#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Promote, on the leader: a running primary stays as it is (a stopped one is started). A standby
# is promoted once its old leader is gone (stopped by its demote step, or marked down in config)
# and it has replayed all the WAL it received, then checkpoints so that a former leader can
# follow the new timeline at once.

main() {
  : "${standby_include:?}" "${down_addresses[*]-}" # down_addresses may be empty
  begin

  step="checking the member"
  if ! running; then
    say "postgresql ${cluster[*]} is down: starting it"
    start_server || die "$reason"
  fi
  if ! in_recovery; then
    committed=yes
    say "the leader: a running primary"
    exit 0
  fi

  step="checking that the old leader is gone"
  for _ in $(seq 150); do
    read -r status sender <<<"$(sql -c "select status, coalesce(sender_host, '') from pg_stat_wal_receiver" | tr '|' ' ')"
    [ "$status" = streaming ] || break
    for a in "${down_addresses[@]}"; do [ "$sender" = "$a" ] && break 2; done
    sleep 0.2
  done
  if [ "$status" = streaming ] && ! printf '%s\n' "${down_addresses[@]}" | grep -qxF "$sender"; then
    die "it still streams from $sender, a leader that is alive: stop it (its demote step does) or mark it down in config"
  fi

  step="replaying what it received"
  for _ in $(seq 600); do
    [ "$(sql -c "select coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true)")" = t ] && break
    sleep 0.1
  done

  step="promoting"
  say "promoting $host to leader"
  try as_postgres "$pgbin/pg_ctl" promote -D "$datadir" -w -t 120 || die "$reason"
  committed=yes
  rm -f "$standby_include"
  sql -c "checkpoint"
  say "the leader: promoted, on timeline $(sql -c "select timeline_id from pg_control_checkpoint()")"
}

# nothing to put back before the promotion, and nothing can be after it
rollback() { :; }

main "$@"
