#!/bin/bash
# Stops one sandbox host's sshd (by its PID, never by name), as if the host had gone away for
# SSH; sandbox/up.sh brings it back. Used by the failover test.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root
load_hosts
[[ $# -eq 1 && -n ${HOST_ADDR[$1]:-} ]] || die "usage: $0 HOST (one of: ${HOST_NAMES[*]})"
stop_sshd "$1"
