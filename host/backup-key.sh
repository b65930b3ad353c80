#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# The SSH key of the user pgBackRest runs as on this host: made once and never replaced. Its
# public line is the step's output, for the other side's authorized_keys.
rollback() { :; }

main() {
  : "${backup_user:?}"
  begin
  step="checking pgBackRest"
  command -v pgbackrest >/dev/null || die "pgbackrest is not installed on this host (apt-get install pgbackrest)"
  getent passwd "$backup_user" >/dev/null || die "there is no user $backup_user on this host"
  local home
  home=$(home_of "$backup_user")
  step="making the SSH key of $backup_user"
  # shellcheck disable=SC2016 # expanded by the inner sh
  runuser -u "$backup_user" -- sh -c 'umask 077; mkdir -p "$1/.ssh"; test -f "$1/.ssh/id_ed25519" ||
    ssh-keygen -q -t ed25519 -N "" -C "pgbackrest@$2" -f "$1/.ssh/id_ed25519"' sh "$home" "$host" || die "ssh-keygen failed"
  committed=yes
  runuser -u "$backup_user" -- cat "$home/.ssh/id_ed25519.pub"
}
main "$@"
