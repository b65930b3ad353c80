#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Refresh, on a standby: `stop` before the leader's restore (nothing unmasked streams here);
# `clear` once the leader is masked: the data directory moved aside and a fresh one made (initdb),
# which the next `up` replaces with a copy of the masked leader. The old copy is removed by `clear` of the
# next refresh, or by hand. Header variable: action.

rollback() { restore_files; }

main() {
  : "${action:?}"
  begin
  local aside="$datadir.pg-replication-refresh-prev" out
  step="checking the standby"
  if [ "$action" = clear ] && [ -d "$aside" ] && ! in_recovery && [ -z "$(holds_data)" ]; then
    committed=yes
    say "already cleared"
    exit 0
  fi
  in_recovery || die "this member is not a standby (no standby.signal): a refresh stops and clears only standbys"
  case $action in
    stop)
      if running; then
        step="stopping the standby"
        try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
        say "stopped for the refresh"
      else
        say "already stopped"
      fi
      ;;
    clear)
      running && die "the standby runs again: stop it (or run the refresh again)"
      step="moving the data directory aside"
      rm -rf "$aside"
      mv "$datadir" "$aside"
      # a fresh cluster, as a new host has: every step reads it as a member that holds nothing yet
      out=$(as_postgres "$pgbin/initdb" -D "$datadir" -A peer --no-instructions 2>&1) || die "initdb failed: $(why "$out")"
      say "its data directory is a fresh one (the previous one is $aside): the next update copies the leader here"
      ;;
    *) die "unknown action $action" ;;
  esac
  committed=yes
}

main "$@"
