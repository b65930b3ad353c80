#!/usr/bin/env bash
# ci/deploy-agent.sh start VAR | stop: the deploy key, given to one step in the environment
# variable VAR, goes into an SSH agent of this job's own and never onto disk; the program's host
# steps log in through it (SSH_AUTH_SOCK), so the key is in no file, no config and no state.
# `start` writes SSH_AUTH_SOCK and SSH_AGENT_PID to $GITHUB_ENV for the later steps; `stop`
# ends that agent, whatever happened.
set -euo pipefail
case ${1:-} in
  start)
    [ $# -eq 2 ] || { echo "usage: deploy-agent.sh start VAR | stop" >&2; exit 2; }
    var=$2
    [ -n "${!var:-}" ] || { echo "deploy-agent: $var is empty: set the secret it comes from" >&2; exit 1; }
    sock="${RUNNER_TEMP:?}/deploy-agent.$$.sock"
    pid=$(ssh-agent -a "$sock" -s | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p')
    printf '%s\n' "${!var%$'\n'}" | SSH_AUTH_SOCK=$sock ssh-add -q - || { kill "$pid"; exit 1; }
    printf 'SSH_AUTH_SOCK=%s\nSSH_AGENT_PID=%s\n' "$sock" "$pid" >> "${GITHUB_ENV:?}"
    ;;
  stop)
    [ -z "${SSH_AGENT_PID:-}" ] || kill "$SSH_AGENT_PID" 2> /dev/null || true
    ;;
  *)
    echo "usage: deploy-agent.sh start VAR | stop" >&2
    exit 2
    ;;
esac
