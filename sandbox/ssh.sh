#!/bin/bash
# Usage: ssh.sh NAME [command...]  -- ssh into a sandbox host as deploy.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || die "usage: $0 NAME [command...]"
load_hosts
[[ -n ${HOST_ADDR[$1]:-} ]] || die "unknown host '$1' (see $HOSTS_CONF)"
[[ -f $SSH_CONFIG ]] || die "no $SSH_CONFIG (run up.sh)"
exec ssh -F "$SSH_CONFIG" "$@"
