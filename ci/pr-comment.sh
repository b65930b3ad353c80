#!/usr/bin/env bash
# Posts the report file as the pull request's pg-replication comment, or edits the one posted
# before (found by its marker and its author, the bot): one comment per pull request, always the
# latest preview. Needs GITHUB_TOKEN, GITHUB_REPOSITORY, PR_NUMBER; GITHUB_API_URL defaults to the
# public API; PR_COMMENT_AUTHOR is the token's login (default github-actions[bot]).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/env.sh
source "$(dirname "$0")/../scripts/env.sh"
[ -f "${1:-}" ] || { echo "usage: pr-comment.sh REPORT.md" >&2; exit 2; }
for v in GITHUB_TOKEN GITHUB_REPOSITORY PR_NUMBER; do
  [ -n "${!v:-}" ] || { echo "pr-comment: $v is not set" >&2; exit 2; }
done
make -s -C "$PGR_ROOT" deps >&2
exec node -r ts-node/register/transpile-only "$PGR_ROOT/ci/prComment.ts" "$1"
