#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# On the repository host: the stanza is created (or found as it is: stanza-create is idempotent)
# and `pgbackrest check` proves the chain end to end: the leader switches WAL and the segment
# arrives in the repository within archive-timeout.
rollback() { :; }

main() {
  : "${stanza:?}" "${backup_user:?}"
  begin
  local out
  step="creating the stanza $stanza"
  out=$(retry_on_backrest_lock runuser -u "$backup_user" -- pgbackrest --stanza="$stanza" stanza-create) || die "$(why "$out")"
  step="checking the archive of stanza $stanza"
  out=$(retry_on_backrest_lock runuser -u "$backup_user" -- pgbackrest --stanza="$stanza" check) || die "$(why "$out")"
  committed=yes
  say "stanza $stanza: created or found, and WAL reaches the repository (pgbackrest check)"
}
main "$@"
