#!/usr/bin/env bash
# Builds (or reuses) the Pulumi CLI, its Node.js language host and the two resource plugins
# from Go modules, caching the binaries outside the repo keyed by version.
#   build.sh        everything `pulumi up` of this project needs
#   build.sh core   the CLI, the language host and the postgresql plugin (the engine tests)
# Exit 0: ready. Exit 3: a module the build needs is not served by the Go module proxy
# reachable from this machine (the message names it).
set -euo pipefail
scope=${1:-all}
source "$(dirname "$0")/../scripts/env.sh"
here="$PGR_ROOT/toolchain"
bin="$PGR_TOOLCHAIN_DIR/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=local

COMMAND_VERSION=1.2.1
POSTGRESQL_VERSION=3.18.1
LANGUAGE_HOST_SDK=v3.68.0

say() { printf '[toolchain %(%H:%M:%S)T] %s\n' -1 "$*"; }

# go build with a heartbeat: the cold CLI build compiles ~2,000 packages.
go_build() {
  local dir=$1 out=$2 pkg=$3 ldflags=$4 started=$SECONDS
  say "building $(basename "$out") ($pkg)"
  (cd "$dir" && go build -v -trimpath -tags osusergo,grpcnotrace -ldflags "-s -w $ldflags" \
      -o "$out.partial" "$pkg" 2>&1) |
    awk -v name="$(basename "$out")" '/^go: downloading/ {d++; next}
      {n++; if (n % 200 == 0) printf "  %s: %d packages compiled, %d modules downloaded\n", name, n, d; fflush()}
      /^(#|.*\.go:[0-9]+)/ {print}'
  [ "${PIPESTATUS[0]}" -eq 0 ] || { say "build of $out failed"; return 1; }
  mv "$out.partial" "$out"
  say "built $(basename "$out") in $((SECONDS - started)) s"
}

# A module the proxy refuses is a hard stop with a clear reason, not a half-built toolchain.
require_module() {
  local mod=$1 err
  if ! err=$(cd "$here" && go mod download -json "$mod" 2>&1); then
    say "BLOCKED: the Go module proxy does not serve $mod"
    # the reason without the proxy's address
    echo "$err" | grep -m1 -oE '(403|404|410) [A-Za-z ]+|not available[^"]*' | sed 's/^/    /' || true
    return 3
  fi
}

ambient_pulumi() {
  local p
  p=$(command -v pulumi 2>/dev/null) || return 1
  [ "$p" != "$bin/pulumi" ] || return 1
  command -v pulumi-language-nodejs >/dev/null 2>&1 || [ -x "$(dirname "$p")/pulumi-language-nodejs" ] || return 1
  echo "$p"
}

started=$SECONDS
if p=$(ambient_pulumi); then
  say "using pulumi on PATH: $p ($("$p" version))"
else
  if [ ! -x "$bin/pulumi" ]; then
    cli_ver=$(go -C "$here/cli" list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)
    go_build "$here/cli" "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
      "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_ver"
  fi
  [ -x "$bin/pulumi-language-nodejs" ] || go_build "$here/language-nodejs" "$bin/pulumi-language-nodejs" \
    github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGUAGE_HOST_SDK"
  say "pulumi $("$bin/pulumi" version) ready in $bin"
fi

plugin_installed() { pulumi plugin ls 2>/dev/null | awk -v n="$1" -v v="$2" '$1==n && $3==v {f=1} END {exit !f}'; }

install_plugin() {
  local name=$1 version=$2 dir=$3 pkg=$4 ldflags=$5 out="$PGR_CACHE_DIR/plugins/$1-v$2/pulumi-resource-$1"
  if plugin_installed "$name" "$version"; then say "plugin $name $version already installed"; return; fi
  mkdir -p "$(dirname "$out")"
  [ -x "$out" ] || go_build "$here/$dir" "$out" "$pkg" "$ldflags"
  pulumi plugin install resource "$name" "$version" --file "$out" --reinstall
}

install_plugin postgresql "$POSTGRESQL_VERSION" postgresql . "-X main.version=$POSTGRESQL_VERSION"

if [ "$scope" != core ] && ! plugin_installed command "$COMMAND_VERSION"; then
  require_module github.com/pulumi/pulumi-command/provider@v0.0.0-20260303235922-7f3eb6f3b77c || exit 3
  install_plugin command "$COMMAND_VERSION" command github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command \
    "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION"
fi
say "toolchain ready in $((SECONDS - started)) s"
pulumi plugin ls
