# shellcheck shell=bash
# Sourced by the Makefile's recipes and the scripts: one place for the paths and the Pulumi
# environment every command of this project runs with.
PGR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGR_CACHE_DIR=${PGR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg-replication}
PGR_NODE_VERSION=22.23.3
PGR_NODE_DIR="$PGR_CACHE_DIR/node-v$PGR_NODE_VERSION"
PGR_PULUMI_VERSION=3.274.1
PGR_TOOLCHAIN_DIR="$PGR_CACHE_DIR/pulumi-v$PGR_PULUMI_VERSION"
PGR_SANDBOX_DIR=${PGR_SANDBOX_DIR:-/var/tmp/pg-replication-sandbox}
export PGR_ROOT PGR_CACHE_DIR PGR_NODE_DIR PGR_TOOLCHAIN_DIR PGR_SANDBOX_DIR

export PATH="$PGR_NODE_DIR/bin:$PGR_TOOLCHAIN_DIR/bin:/usr/local/go/bin:$PATH"
export PULUMI_HOME=${PULUMI_HOME:-$PGR_CACHE_DIR/pulumi-home}
export PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-file://$PGR_ROOT/.pulumi-state}
# the file backend does not create its folder
case $PULUMI_BACKEND_URL in file://*) mkdir -p "${PULUMI_BACKEND_URL#file://}" ;; esac
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
# type checking is `make typecheck`'s job (CI runs it first): skipping it in every engine run saves ~2 s
export PULUMI_NODEJS_TRANSPILE_ONLY=${PULUMI_NODEJS_TRANSPILE_ONLY:-true}
export PULUMI_CREDENTIAL_STORE=${PULUMI_CREDENTIAL_STORE:-plaintext}
# stacks without ssh.privateKeyPath log in through an SSH agent; the sandbox keeps one for its
# deploy key (a deploy job's runner brings its own)
if [ -z "${SSH_AUTH_SOCK:-}" ] && [ -S "$PGR_SANDBOX_DIR/agent.sock" ]; then export SSH_AUTH_SOCK="$PGR_SANDBOX_DIR/agent.sock"; fi
