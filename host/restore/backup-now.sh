# Run on the repository host, as root: a backup now, with the command of the stanza's scheduled
# unit (through systemd when it runs here). Header variables: stanza, type.
set -euo pipefail
: "${stanza:?}" "${type:?}"
unit=pg-replication-backup-$stanza-$type.service
file=/etc/systemd/system/$unit
[ -f "$file" ] || { echo "backup: no $file on this host: run \`pulumi up\` with clusters[].backup first" >&2; exit 1; }
if [ -d /run/systemd/system ]; then
  systemctl start --wait "$unit" || { echo "backup: $unit failed: $(journalctl -u "$unit" -n 3 --no-pager -o cat | tail -n 1)" >&2; exit 1; }
else
  user=$(sed -n 's/^User=//p' "$file")
  command=$(sed -n 's/^ExecStart=//p' "$file")
  # the unit's line is this program's own (render/pgbackrest.ts): words without quoting
  read -r -a words <<<"$command"
  out=$(cd / && runuser -u "$user" -- "${words[@]}" 2>&1) || { echo "backup: $(printf '%s\n' "$out" | grep -m1 ERROR || printf '%s\n' "$out" | tail -n 1)" >&2; exit 1; }
fi
echo "backup ($type) of stanza $stanza: done"
