#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Demote, on every member but the leader: a member still running as a primary of this cluster (the
# system identifier the leader showed at plan time) is a former leader: it is stopped with a fast
# shutdown, which sends every committed transaction to the standbys before it ends, so that the
# new leader can be promoted without losing one. It stops only once the new leader streams from
# it: one that does not (cut off, its slot lost) would be promoted without what it lacks, so the
# step refuses and this leader goes on running. A stale former primary (the new leader is on a
# later timeline already: a failover) is stopped without that check. Anything else is left alone.

main() {
  : "${leader:?}" "${leader_system?}" "${candidate:?}" "${conn:?}"
  begin

  step="checking the member"
  control=$(controldata)
  own_system=$(control_field "$control" "Database system identifier")
  if ! running || in_recovery || [ -z "$leader_system" ] || [ "$own_system" != "$leader_system" ]; then
    committed=yes
    say "not a running primary of this cluster: nothing to demote"
    exit 0
  fi
  step="checking that $candidate streams from this leader"
  state=$(sql -v name="$candidate" <<<"select coalesce((select state || ' ' || pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)::bigint from pg_stat_replication where application_name = :'name' order by state = 'streaming' desc limit 1), 'not connected')")
  case "$state" in
    streaming*) say "$candidate streams from this leader (${state#streaming } bytes behind)" ;;
    *)
      # a stale former primary: the new leader leads a later timeline already (a failover)
      own_timeline=$(control_field "$control" "Latest checkpoint's TimeLineID")
      if read_leader_system "$conn" && [ "${leader_timeline:-0}" -gt "${own_timeline:-0}" ] 2>/dev/null; then
        say "$candidate leads timeline $leader_timeline, past this primary's $own_timeline (a failover): stopping this stale primary"
      else
        die "$candidate, the new leader, does not stream from this leader ($state): promoting it would lose what it has not received; make it stream (or mark this host down for a failover), then run again"
      fi
      ;;
  esac
  # the shutdown checkpoint writes every dirty buffer while no session may write: a checkpoint
  # now, while the application still writes, leaves it little to do
  step="a checkpoint before the shutdown"
  try sql -c "checkpoint" >/dev/null || die "$reason"
  step="stopping the former leader"
  say "the leader is now $leader: stopping this former leader (fast shutdown: its standbys receive every committed transaction first)"
  try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
  committed=yes
  say "stopped at $(control_field "$(controldata)" "Latest checkpoint location")"
}

# nothing to put back: the only change is the stop, and it is the last step
rollback() { :; }

main "$@"
