#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# A member's side of pgBackRest: its stanza's include (repository host, asynchronous archiving
# with a bound on the queue), the repository host's key allowed from its address only, and the
# repository host's key pinned in known_hosts. Files are written as postgres, in its folders.
rollback() { restore_put; }

main() {
  : "${stanza:?}" "${authorized:?}" "${known:?}" "${confd:?}"
  begin
  put_changed=()
  local home touched=no
  step="checking pgBackRest"
  command -v pgbackrest >/dev/null || die "pgbackrest is not installed on this host (apt-get install pgbackrest)"
  home=$(home_of postgres)
  step="writing the pgBackRest configuration"
  [ -d "${confd%/*}" ] || install -d -o postgres -g postgres -m 750 "${confd%/*}"
  [ -d "$confd" ] || install -d -o postgres -g postgres -m 750 "$confd"
  pgbackrest_conf | put_as postgres "$confd/$stanza.conf" 640 && touched=yes
  if [ -n "${s3_ca:-}" ]; then
    printf '%s\n' "$s3_ca" | put_as postgres "${confd%/*}/$stanza-s3-ca.crt" 644 && touched=yes
  fi
  step="trusting the repository host"
  # shellcheck disable=SC2016 # expanded by the inner sh
  as_postgres sh -c 'umask 077; mkdir -p "$1/.ssh"' sh "$home"
  printf '%s\n' "$authorized" | with_block postgres "$home/.ssh/authorized_keys" "$stanza" >"$tmp/authorized_keys"
  put_as postgres "$home/.ssh/authorized_keys" 600 <"$tmp/authorized_keys" && touched=yes
  printf '%s\n' "$known" | with_block postgres "$home/.ssh/known_hosts" "$stanza" >"$tmp/known_hosts"
  put_as postgres "$home/.ssh/known_hosts" 600 <"$tmp/known_hosts" && touched=yes
  committed=yes
  for f in "${put_changed[@]}"; do runuser -u "${f%%:*}" -- rm -f "${f#*:}.pg-replication.prev"; done
  if [ "$touched" = yes ]; then say "pgBackRest stanza $stanza: configured"; else say "pgBackRest stanza $stanza: unchanged"; fi
}
main "$@"
