#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# The repository host's side of a stanza: the repository folder, the stanza's include (every
# member, retention, compression), each member's key allowed from its own address only, the
# members' host keys pinned, and the scheduled backups as systemd timers (enabled when systemd
# runs here; their command is what `make backup` runs).
rollback() {
  restore_put
  local a
  for a in "${made_accounts[@]}"; do userdel --remove "$a" >/dev/null 2>&1 || true; done
  local f
  for f in "${changed[@]}"; do
    if [ -e "$f.pg-replication.prev" ]; then mv -f "$f.pg-replication.prev" "$f"; else rm -f "$f"; fi
  done
}

main() {
  : "${stanza:?}" "${backup_user:?}" "${repo_path:?}" "${authorized:?}" "${known:?}" "${confd:?}" "${units[*]:?}"
  begin
  put_changed=()
  made_accounts=()
  local home unit touched=no
  step="checking pgBackRest"
  command -v pgbackrest >/dev/null || die "pgbackrest is not installed on this host (apt-get install pgbackrest)"
  getent passwd "$backup_user" >/dev/null || die "there is no user $backup_user on this host"
  home=$(home_of "$backup_user")
  step="preparing the repository $repo_path"
  if [ ! -d "$repo_path" ]; then
    install -d -o "$backup_user" -g "$backup_user" -m 750 "$repo_path"
    touched=yes
  fi
  [ "$(stat -c %U "$repo_path")" = "$backup_user" ] || die "$repo_path is owned by $(stat -c %U "$repo_path"), not $backup_user"
  step="writing the pgBackRest configuration"
  [ -d "${confd%/*}" ] || install -d -o "$backup_user" -g "$backup_user" -m 750 "${confd%/*}"
  [ -d "$confd" ] || install -d -o "$backup_user" -g "$backup_user" -m 750 "$confd"
  pgbackrest_conf | put_as "$backup_user" "$confd/$stanza.conf" 640 && touched=yes
  if [ -n "${s3_ca:-}" ]; then
    printf '%s\n' "$s3_ca" | put_as "$backup_user" "${confd%/*}/$stanza-s3-ca.crt" 644 && touched=yes
  fi
  step="trusting the members"
  # shellcheck disable=SC2016 # expanded by the inner sh
  runuser -u "$backup_user" -- sh -c 'umask 077; mkdir -p "$1/.ssh"' sh "$home"
  printf '%s\n' "$authorized" | with_block "$backup_user" "$home/.ssh/authorized_keys" "$stanza" >"$tmp/authorized_keys"
  put_as "$backup_user" "$home/.ssh/authorized_keys" 600 <"$tmp/authorized_keys" && touched=yes
  printf '%s\n' "$known" | with_block "$backup_user" "$home/.ssh/known_hosts" "$stanza" >"$tmp/known_hosts"
  put_as "$backup_user" "$home/.ssh/known_hosts" 600 <"$tmp/known_hosts" && touched=yes
  step="giving the reading stacks their accounts"
  local i account group
  group=$(id -gn "$backup_user")
  # shellcheck disable=SC2154 # the header sets readers and reader_keys (empty arrays count as unset for ${a[*]?})
  for i in "${!readers[@]}"; do
    account=${readers[$i]}
    if ! getent passwd "$account" >/dev/null; then
      install -d -m 755 /var/lib/pg-replication/readers
      # in the repository's group: pgBackRest makes its files 640 and its folders 750, so the
      # account reads every backup and writes none
      useradd --system --gid "$group" --home-dir "/var/lib/pg-replication/readers/$account" --create-home \
        --shell /bin/sh -p '*' "$account" || die "useradd $account failed"
      made_accounts+=("$account")
      say "made the read-only account $account"
      touched=yes
    fi
    [ "$(id -gn "$account")" = "$group" ] || die "$account exists in group $(id -gn "$account"), not $group: it could not read the repository"
    home=$(home_of "$account")
    # shellcheck disable=SC2016 # expanded by the inner sh
    runuser -u "$account" -- sh -c 'umask 077; mkdir -p "$1/.ssh"' sh "$home"
    # its key logs in, runs what it asks (pgBackRest's remote), and nothing more: no forwarding, no terminal
    # shellcheck disable=SC2154
    printf 'restrict %s\n' "${reader_keys[$i]}" | put_as "$account" "$home/.ssh/authorized_keys" 600 && touched=yes
  done
  home=$(home_of "$backup_user")

  step="installing the backup timers"
  for unit in "${units[@]}"; do
    unit_file "$unit" >"$tmp/unit"
    install_root_file "$tmp/unit" "/etc/systemd/system/$unit" && touched=yes
  done
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    for unit in "${units[@]}"; do
      case $unit in *.timer) systemctl enable --now "$unit" >/dev/null 2>&1 || die "systemctl enable --now $unit failed" ;; esac
    done
  elif [ "$touched" = yes ]; then
    say "systemd does not run on this host: the timers are installed and take effect when it does"
  fi
  committed=yes
  for f in "${put_changed[@]}"; do runuser -u "${f%%:*}" -- rm -f "${f#*:}.pg-replication.prev"; done
  for f in "${changed[@]}"; do rm -f "$f.pg-replication.prev"; done
  if [ "$touched" = yes ]; then say "pgBackRest repository of stanza $stanza: configured"; else say "pgBackRest repository of stanza $stanza: unchanged"; fi
}

# install_root_file SRC DEST: a root-owned file in a root-owned folder, if it differs
install_root_file() {
  cmp -s "$1" "$2" && return 1
  if [ -e "$2" ]; then cp -p "$2" "$2.pg-replication.prev"; else rm -f "$2.pg-replication.prev"; fi
  changed+=("$2")
  install -o root -g root -m 644 "$1" "$2"
  say "updated $2"
}
main "$@"
