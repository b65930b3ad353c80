#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Drop slots, on the leader: the physical slots this program made for members the config no
# longer names, as the plan saw them (slots: NAME@RESTART_LSN). A slot goes only if it is still
# the one seen then (same name, same restart LSN: a member added again since has a new one) and
# no walsender uses it; any other is kept and said so. Nothing else on the server is touched.

main() {
  : "${slots[*]-}" # may be empty
  begin

  step="checking the member"
  if ! running || in_recovery; then
    committed=yes
    say "not a running primary: no slot dropped (the next run looks again)"
    exit 0
  fi
  if [ "${#slots[@]}" -eq 0 ]; then
    committed=yes
    say "no slot of a removed member to drop"
    exit 0
  fi
  for entry in "${slots[@]}"; do
    slot=${entry%@*}
    lsn=${entry#*@}
    step="dropping slot $slot"
    state=$(sql -v name="$slot" -v lsn="$lsn" <<<"select coalesce((select case when active then 'in use' when slot_type <> 'physical' then slot_type when coalesce(restart_lsn::text, '') <> :'lsn' then 'another (restart LSN ' || coalesce(restart_lsn::text, 'none') || ')' else 'idle' end from pg_replication_slots where slot_name = :'name'), 'gone')")
    case "$state" in
      idle)
        if out=$(sql -v name="$slot" <<<"select pg_drop_replication_slot(:'name')" 2>&1); then
          say "dropped slot $slot (its member is no longer in config; it kept WAL from $lsn)"
        else
          say "slot $slot: kept, it could not be dropped: $(why "$out")"
        fi
        ;;
      gone) say "slot $slot: already gone" ;;
      "in use") say "slot $slot: kept, a walsender uses it (a member removed from config still streams through it): stop that member, and the next run drops it" ;;
      *) say "slot $slot: kept, it is $state, not the one the plan saw" ;;
    esac
  done
  committed=yes
}

# nothing to put back: a dropped slot is the only change, and each is checked first
rollback() { :; }

main "$@"
