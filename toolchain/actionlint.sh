#!/usr/bin/env bash
# Builds (or reuses) actionlint, the linter `make lint` runs on .github/workflows, from its Go
# module, into the toolchain cache. Prints the path of the binary.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/env.sh
source "$(dirname "$0")/../scripts/env.sh"
version=v1.7.12
out="$PGR_TOOLCHAIN_DIR/bin/actionlint-$version"
if [ ! -x "$out" ]; then
  mkdir -p "$PGR_TOOLCHAIN_DIR/bin"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "toolchain: building actionlint $version from its Go module" >&2
  GOTOOLCHAIN=local GOBIN="$tmp" go install "github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
  mv "$tmp/actionlint" "$out"
fi
echo "$out"
