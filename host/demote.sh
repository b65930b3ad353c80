#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Demote, on every member but the leader: a member still running as a primary of this cluster (the
# system identifier the leader showed at plan time) is a former leader: it is stopped with a fast
# shutdown, which sends every committed transaction to the standbys before it ends, so that the
# new leader can be promoted without losing one. Anything else is left alone.

main() {
  : "${leader:?}" "${leader_system?}"
  begin

  step="checking the member"
  control=$(controldata)
  own_system=$(control_field "$control" "Database system identifier")
  if ! running || in_recovery || [ -z "$leader_system" ] || [ "$own_system" != "$leader_system" ]; then
    committed=yes
    say "not a running primary of this cluster: nothing to demote"
    exit 0
  fi
  step="stopping the former leader"
  say "the leader is now $leader: stopping this former leader (fast shutdown: its standbys receive every committed transaction first)"
  try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
  committed=yes
  say "stopped at $(control_field "$(controldata)" "Latest checkpoint location")"
}

# nothing to put back: the only change is the stop, and it is the last step
rollback() { :; }

main "$@"
