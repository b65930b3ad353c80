#!/usr/bin/env bash
# Builds (or reuses) the Pulumi CLI, its Node.js language host and the two resource plugins,
# caching the binaries outside the repo, keyed by version and a hash of their source.
#   build.sh   everything `pulumi up` of this project needs
# Sources, in order of preference:
#   - a `pulumi` (with its pulumi-language-nodejs) already on PATH;
#   - the CLI from its Go module (wrapper in toolchain/cli), the language host and the plugins
#     from the pinned public sources in ../shared/upstream (PGR_UPSTREAM_DIR), copied to the cache
#     first because that folder is read-only;
#   - without ../shared/upstream: `pulumi plugin install resource NAME VERSION` (a machine with
#     access to Pulumi's plugin downloads).
# Every binary's origin is printed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../scripts/env.sh
source "$(dirname "$0")/../scripts/env.sh"
here="$PGR_ROOT/toolchain"
bin="$PGR_TOOLCHAIN_DIR/bin"
upstream=${PGR_UPSTREAM_DIR:-$PGR_ROOT/../shared/upstream}
mkdir -p "$bin" "$PGR_CACHE_DIR/src"
export GOFLAGS="${GOFLAGS:-} -mod=mod" GOTOOLCHAIN=local

COMMAND_VERSION=1.2.1
POSTGRESQL_VERSION=3.18.1
LANGUAGE_HOST_DIR=pulumi-language-nodejs-3.259.0
# The language host's source pins pkg/ and sdk/ to the monorepo; v3.260.0 is the nearest served
# release it compiles against (v3.274.1 added a method to ResourceMonitorServer).
LANGUAGE_HOST_SDK=v3.260.0

say() { printf '[toolchain %(%H:%M:%S)T] %s\n' -1 "$*"; }

# go build with a heartbeat: a cold build compiles ~2,000 packages.
go_build() {
  local dir=$1 out=$2 pkg=$3 ldflags=$4 started=$SECONDS
  say "building $(basename "$out") ($pkg in $dir)"
  (cd "$dir" && go build -v -trimpath -tags osusergo,grpcnotrace -ldflags "-s -w $ldflags" \
    -o "$out.partial" "$pkg" 2>&1) |
    awk -v name="$(basename "$out")" '/^go: downloading/ {d++; next}
      {n++; if (n % 200 == 0) printf "  %s: %d packages compiled, %d modules downloaded\n", name, n, d; fflush()}
      /^(#|.*\.go:[0-9]+)/ {print}'
  [ "${PIPESTATUS[0]}" -eq 0 ] || {
    say "build of $out failed"
    return 1
  }
  mv "$out.partial" "$out"
  say "built $(basename "$out") in $((SECONDS - started)) s"
}

# A short, stable hash of a source folder: its files' paths and contents.
source_hash() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12
}

# Copies an upstream folder into the cache (shared/ is read-only) and prints the copy's path.
writable_copy() {
  local name=$1 hash=$2 dest="$PGR_CACHE_DIR/src/$1-$2"
  if [ ! -d "$dest" ]; then
    rm -rf "$dest.partial"
    cp -r "$upstream/$name" "$dest.partial"
    chmod -R u+w "$dest.partial"
    mv "$dest.partial" "$dest"
  fi
  echo "$dest"
}

ambient_pulumi() {
  local p
  p=$(command -v pulumi 2>/dev/null) || return 1
  [ "$p" != "$bin/pulumi" ] || return 1
  command -v pulumi-language-nodejs >/dev/null 2>&1 || [ -x "$(dirname "$p")/pulumi-language-nodejs" ] || return 1
  echo "$p"
}

build_cli() {
  if [ -x "$bin/pulumi" ]; then
    say "pulumi: cached, built from the Go module github.com/pulumi/pulumi/pkg/v3 $PGR_PULUMI_VERSION"
    return
  fi
  go_build "$here/cli" "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PGR_PULUMI_VERSION"
}

build_language_host() {
  local out="$bin/pulumi-language-nodejs"
  if [ ! -d "$upstream/$LANGUAGE_HOST_DIR" ]; then
    say "pulumi-language-nodejs: $upstream/$LANGUAGE_HOST_DIR is missing; install Pulumi's release (pulumi and its language hosts) on PATH"
    return 1
  fi
  local hash stamp
  hash=$(source_hash "$upstream/$LANGUAGE_HOST_DIR")
  stamp="$bin/.pulumi-language-nodejs.source"
  if [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    say "pulumi-language-nodejs: cached, built from $LANGUAGE_HOST_DIR (source $hash)"
    return
  fi
  local src
  src=$(writable_copy "$LANGUAGE_HOST_DIR" "$hash")
  (cd "$src" && go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 \
    -dropreplace github.com/pulumi/pulumi/sdk/v3 \
    -require "github.com/pulumi/pulumi/pkg/v3@$LANGUAGE_HOST_SDK" \
    -require "github.com/pulumi/pulumi/sdk/v3@$LANGUAGE_HOST_SDK" && go mod tidy)
  go_build "$src" "$out" . "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$LANGUAGE_HOST_SDK"
  echo "$hash" >"$stamp"
  say "pulumi-language-nodejs: built from $upstream/$LANGUAGE_HOST_DIR (source $hash) against sdk $LANGUAGE_HOST_SDK"
}

plugin_installed() { pulumi plugin ls 2>/dev/null | awk -v n="$1" -v v="$2" '$1==n && $3==v {f=1} END {exit !f}'; }

# install_plugin NAME VERSION UPSTREAM_DIR PACKAGE LDFLAGS [go mod edit args...]
install_plugin() {
  local name=$1 version=$2 dir=$3 pkg=$4 ldflags=$5
  shift 5
  if [ ! -d "$upstream/$dir" ]; then
    say "plugin $name $version: no $upstream/$dir; installing Pulumi's release"
    plugin_installed "$name" "$version" || pulumi plugin install resource "$name" "$version"
    return
  fi
  local hash out stamp
  hash=$(source_hash "$upstream/$dir")
  out="$PGR_CACHE_DIR/plugins/$name-v$version-$hash/pulumi-resource-$name"
  stamp="$PULUMI_HOME/plugins/resource-$name-v$version/.pg-replication-source"
  if plugin_installed "$name" "$version" && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    say "plugin $name $version: installed, built from $dir (source $hash)"
    return
  fi
  if [ ! -x "$out" ]; then
    local src
    src=$(writable_copy "$dir" "$hash")
    if [ $# -gt 0 ]; then (cd "$src/provider" && go mod edit "$@"); fi
    mkdir -p "$(dirname "$out")"
    go_build "$src/provider" "$out" "$pkg" "$ldflags"
  fi
  pulumi plugin install resource "$name" "$version" --file "$out" --reinstall
  echo "$hash" >"$stamp"
  say "plugin $name $version: built from $upstream/$dir (source $hash)"
}

started=$SECONDS
if p=$(ambient_pulumi); then
  say "pulumi: on PATH at $p ($("$p" version))"
else
  build_cli
  build_language_host
fi

install_plugin command "$COMMAND_VERSION" "pulumi-command-$COMMAND_VERSION" ./cmd/pulumi-resource-command \
  "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION"
# v1.6.26 of this indirect module is not served; v1.6.27 is the nearest that is.
install_plugin postgresql "$POSTGRESQL_VERSION" "pulumi-postgresql-$POSTGRESQL_VERSION" ./cmd/pulumi-resource-postgresql \
  "-X github.com/pulumi/pulumi-postgresql/provider/v3/pkg/version.Version=$POSTGRESQL_VERSION" \
  -require github.com/aws/aws-sdk-go-v2/feature/rds/auth@v1.6.27

say "toolchain ready in $((SECONDS - started)) s"
say "pulumi $(pulumi version); language host $(pulumi-language-nodejs -version 2>&1 | head -1)"
pulumi plugin ls
