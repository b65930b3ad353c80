# Installs the preview identity on a member: a user whose SSH key can run nothing but the
# read-only observation a `pulumi preview` makes (a forced command through one sudo rule).
# Header variables: preview_user, authorized_line, observe_path, sudoers_path, observe_script.
main() {
  set -euo pipefail
  : "${preview_user:?}" "${authorized_line:?}" "${observe_path:?}" "${sudoers_path:?}" "${observe_script:?}"
  local changed=no home
  # global: the exit trap reads it after main has returned
  preview_tmp=$(mktemp -d)
  trap 'rm -rf "$preview_tmp"' EXIT
  local tmp=$preview_tmp

  if ! getent passwd "$preview_user" >/dev/null; then
    # "*": no password, but not locked (sshd without PAM refuses locked accounts)
    useradd --system --user-group --shell /bin/sh --create-home --home-dir "/var/lib/$preview_user" -p '*' "$preview_user"
    changed=yes
  fi
  home=$(getent passwd "$preview_user" | cut -d: -f6)

  printf '%s\n' "$observe_script" >"$tmp/observe"
  printf '%s ALL=(root) NOPASSWD: %s\n' "$preview_user" "$observe_path" >"$tmp/sudoers"
  printf '%s\n' "$authorized_line" >"$tmp/authorized_keys"
  visudo -cqf "$tmp/sudoers" || { echo "pg-replication: the preview sudoers rule does not validate" >&2; exit 1; }

  # root owns every file here: the preview user can change none of them
  install -d -o root -g root -m 755 "$(dirname "$observe_path")" "$home/.ssh"
  place() { # SRC DEST MODE
    if ! cmp -s "$1" "$2"; then
      install -o root -g root -m "$3" "$1" "$2.pg-replication.new"
      mv -f "$2.pg-replication.new" "$2"
      changed=yes
    fi
  }
  place "$tmp/observe" "$observe_path" 755
  place "$tmp/sudoers" "$sudoers_path" 440
  place "$tmp/authorized_keys" "$home/.ssh/authorized_keys" 644
  if [ "$changed" = yes ]; then echo "preview access for $preview_user: installed"; else echo "preview access for $preview_user: unchanged"; fi
}
main
