#!/bin/bash
# Tears down what up.sh created (idempotent, safe after a crash).
#   down.sh          stop everything, keep the state directory (PostgreSQL data is in it)
#   down.sh --purge  also remove the state directory and the deploy user
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=no
case ${1:-} in
  '') ;;
  --purge) purge=yes ;;
  *) die "usage: $0 [--purge]" ;;
esac
require_root
load_hosts

rc=0
for name in "${HOST_NAMES[@]}"; do
  say "host $name"
  stop_postgres "$name" || rc=1
  stop_versitygw "$name"
  stop_sshd "$name"
  # Anything else still inside this host's netns was started in the sandbox.
  for pid in $(netns_pids "$name"); do
    echo "  $name: terminating leftover pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null)"
    kill -TERM "$pid" 2> /dev/null || true
    wait_gone "$pid" 5 || kill -KILL "$pid" 2> /dev/null || true
  done
  if [[ -e /run/netns/$(netns_of "$name") ]]; then
    echo "  $name: deleting netns $(netns_of "$name")"
    ip netns del "$(netns_of "$name")"
  fi
  if ip link show "$(veth_of "$name")" &> /dev/null; then
    ip link del "$(veth_of "$name")"
  fi
done

if ip link show "$BRIDGE" &> /dev/null; then
  say "deleting bridge $BRIDGE"
  ip link del "$BRIDGE"
fi
if [[ -e $SUDOERS_FILE ]]; then
  say "removing $SUDOERS_FILE"
  rm -f "$SUDOERS_FILE"
fi

if [[ -f $AGENT_PID ]]; then
  pid=$(cat "$AGENT_PID")
  # only an ssh-agent this sandbox started: check the process is one before stopping it
  if [[ -n $pid ]] && [[ $(cat "/proc/$pid/comm" 2> /dev/null) == ssh-agent ]]; then
    say "stopping the deploy key's SSH agent (pid $pid)"
    kill -TERM "$pid" 2> /dev/null || true
  fi
  rm -f "$AGENT_PID" "$AGENT_SOCK"
fi

if [[ $purge == yes ]]; then
  [[ $rc -eq 0 ]] || die "a postmaster could not be stopped; not purging"
  # the sandbox's hosts share this machine's /etc and /usr/local: what a stack's preview
  # identity installed on them is here too
  if getent passwd pgr-preview > /dev/null; then
    say "removing user pgr-preview"
    userdel --remove pgr-preview 2> /dev/null || userdel pgr-preview
  fi
  rm -f /etc/sudoers.d/pg-replication-preview
  rm -rf /usr/local/lib/pg-replication
  if getent passwd "$SSH_USER" > /dev/null; then
    say "removing user $SSH_USER"
    userdel "$SSH_USER"
  fi
  # the mount point up.sh made for the hosts' /etc/pgbackrest (empty in this namespace)
  if [[ -f $STATE/made-etc-pgbackrest ]]; then
    rmdir /etc/pgbackrest 2> /dev/null || echo "  /etc/pgbackrest is not empty; kept" >&2
  fi
  if [[ -d $STATE ]]; then
    [[ $STATE == /?*/* && -f $STATE_MARKER ]] || die "$STATE does not look like a sandbox state directory; not removing it"
    say "removing $STATE"
    rm -rf --one-file-system "$STATE"
  fi
else
  say "state kept in $STATE (PostgreSQL data included); use --purge to remove it"
fi
exit "$rc"
