# Run on the repository host, as root: a backup now, with the commands of the stanza's scheduled
# unit (through systemd when it runs here and every repository is asked for), or of one
# repository's line of it. Header variables: stanza, type, repo (empty: every repository).
set -euo pipefail
: "${stanza:?}" "${type:?}" "${repo?}"
unit=pg-replication-backup-$stanza-$type.service
file=/etc/systemd/system/$unit
[ -f "$file" ] || { echo "backup: no $file on this host: run \`pulumi up\` with clusters[].backup first" >&2; exit 1; }
if [ -z "$repo" ] && [ -d /run/systemd/system ]; then
  systemctl start --wait "$unit" || { echo "backup: $unit failed: $(journalctl -u "$unit" -n 3 --no-pager -o cat | tail -n 1)" >&2; exit 1; }
else
  user=$(sed -n 's/^User=//p' "$file")
  ran=0
  while read -r command; do
    [ -z "$repo" ] || [[ " $command " == *" --repo=$repo "* ]] || continue
    # the unit's lines are this program's own (render/pgbackrest.ts): words without quoting
    read -r -a words <<<"$command"
    out=$(cd / && runuser -u "$user" -- "${words[@]}" 2>&1) || { echo "backup: $(printf '%s\n' "$out" | grep -m1 ERROR || printf '%s\n' "$out" | tail -n 1)" >&2; exit 1; }
    ran=$((ran + 1))
  done < <(sed -n 's/^ExecStart=//p' "$file")
  [ "$ran" -gt 0 ] || { echo "backup: stanza $stanza has no repository $repo" >&2; exit 1; }
fi
echo "backup ($type) of stanza $stanza${repo:+ in repository $repo}: done"
