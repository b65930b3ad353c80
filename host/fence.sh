#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Fence, on a host marked down that still answers: a server running there as a primary of this
# cluster would take writes beside the leader to be, so it is stopped (fast shutdown) before that
# leader is promoted. Debian's start.conf is set to manual first, so that a reboot does not start
# it again as a primary: it starts by hand only until it rejoins the cluster (its standby step puts
# start.conf back to auto once it streams). A member in recovery (a standby) is left as it is.

main() {
  : "${start_conf:?}" "${fence_mark:?}"
  begin
  start_conf_was=""

  step="checking the member"
  if in_recovery; then
    committed=yes
    say "marked down and a standby: it cannot take writes, left as it is"
    exit 0
  fi

  step="keeping it from starting by itself"
  if [ "$(grep -v '^[[:space:]]*#' "$start_conf" 2>/dev/null | tr -d '[:space:]')" != manual ]; then
    start_conf_was=$(cat "$start_conf" 2>/dev/null || echo auto)
    printf '%s\n' "$fence_mark (marked down while a primary): it starts by hand only, until it rejoins as a standby" manual |
      write_as_postgres "$start_conf" 644 || die "cannot write $start_conf"
    say "$start_conf: manual (a reboot leaves it stopped)"
  fi

  if running; then
    step="stopping this primary"
    say "marked down but running as a primary: stopping it (fast shutdown) before another member is promoted"
    try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
    committed=yes
    say "fenced: stopped at $(control_field "$(controldata)" "Latest checkpoint location")"
  else
    committed=yes
    say "fenced: marked down and stopped"
  fi
}

# puts start.conf back (the server was not stopped)
rollback() {
  [ -z "$start_conf_was" ] || printf '%s\n' "$start_conf_was" | write_as_postgres "$start_conf" 644
}

main "$@"
