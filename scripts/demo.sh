#!/usr/bin/env bash
# make demo: the sandbox stack brought up by the real engine: a leader streaming to two
# standbys, its outputs, the replication state, a preview that must show no change; then the
# migration of the old server's database onto it (scripts/demo-migration.sh); then backups: a
# mistaken DELETE found and brought back beside the live table (scripts/demo-backup.sh).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "$0")/env.sh"
cd "$PGR_ROOT"

bash toolchain/build.sh
# The dev stack's secrets are encrypted with this passphrase; it is for the sandbox stack only.
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-pg-replication-sandbox}
pulumi stack select --create dev --non-interactive
pulumi up --yes --stack dev --non-interactive
echo
echo "== stack outputs (secrets hidden; pulumi stack output --show-secrets shows them)"
pulumi stack output --stack dev
echo
echo "== replication state"
node -r ts-node/register/transpile-only scripts/status.ts dev
echo
echo "== a second preview: it must report no change"
pulumi preview --stack dev --non-interactive --expect-no-changes

echo
bash scripts/demo-migration.sh
bash scripts/demo-backup.sh
