#!/usr/bin/env bash
# The end of make demo: a mistaken DELETE on the demo database, found in the archived WAL by
# make recovery-points, and brought back beside the live table by make restore-table.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "$0")/env.sh"
cd "$PGR_ROOT"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-pg-replication-sandbox}
tool() { node -r ts-node/register/transpile-only "scripts/$1.ts" dev; }
on_pg1() { ssh -F "$PGR_SANDBOX_DIR/ssh_config" pg1 "cd / && sudo -n -u postgres psql -X -A -t -q -d appdb"; }

echo "== backups: a full backup now (scheduled ones run from the repository host's timers)"
TYPE=full tool backup
since=$(on_pg1 <<<"select now()")
sleep 1
echo
echo "== a mistake: DELETE FROM orders WHERE id % 3 = 0 on appdb"
on_pg1 <<<"delete from orders where id % 3 = 0"
echo "   orders left: $(on_pg1 <<<"select count(*) from orders")"
echo
echo "== make recovery-points STACK=dev DB=appdb SINCE='$since'"
points=$(DB=appdb SINCE=$since tool recoveryPoints)
printf '%s\n' "$points"
xid=$(printf '%s\n' "$points" | awk '/DELETE [0-9]+ rows? from public\.orders/ { for (i = 1; i <= NF; i++) if ($i == "xid") x = $(i + 1) } END { print x }')
[ -n "$xid" ] || { echo "demo: recovery-points did not find the DELETE" >&2; exit 1; }
echo
echo "== make restore-table STACK=dev DB=appdb TABLE=public.orders XID=$xid (just before it)"
DB=appdb TABLE=public.orders XID=$xid tool restoreTable
echo
node -r ts-node/register/transpile-only scripts/status.ts dev | sed -n '/^backups of/,$p'
