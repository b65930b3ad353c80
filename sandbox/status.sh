#!/bin/bash
# Shows each sandbox host's health; exits non-zero if any host is unhealthy.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
load_hosts
[[ -f $SSH_CONFIG ]] || die "no sandbox state in $STATE (run up.sh)"

rc=0
printf '%-6s %-12s %-6s %-8s %-4s %-8s %s\n' HOST ADDRESS NETNS SSHD SSH VERSION 'pg_lsclusters 15 main'
for name in "${HOST_NAMES[@]}"; do
  netns=no sshd=dead sshok=no version=- cluster=-
  netns_exists "$name" && netns=yes
  pid=$(sshd_pid "$name")
  if [[ -n $pid ]]; then
    sshd=$pid
    [[ $(proc_netns "$pid") == "$(netns_id "$name")" ]] || sshd="$pid!ns"
  fi
  if ! is_db_host "$name"; then
    # a service host: its server instead of a cluster (only s3 so far)
    ssh -F "$SSH_CONFIG" "$name" true 2> /dev/null && sshok=yes
    service=dead
    vpid=$(versitygw_pid "$name")
    if [[ -n $vpid ]]; then
      service="versitygw pid $vpid, https://${HOST_ADDR[$name]}/health "
      if curl -sf --cacert "$STATE/tls/ca.crt" -o /dev/null "https://${HOST_ADDR[$name]}/health"; then
        service+=ok
      else
        service+=failing
      fi
    fi
    printf '%-6s %-12s %-6s %-8s %-4s %-8s %s\n' "$name" "${HOST_ADDR[$name]}" "$netns" "$sshd" "$sshok" - "$service"
    [[ $netns == yes && $sshd =~ ^[0-9]+$ && $sshok == yes && $service == *' ok' ]] || rc=1
    continue
  fi
  # One ssh round trip: cluster line, then the server version if it answers.
  if out=$(ssh -F "$SSH_CONFIG" "$name" \
      'pg_lsclusters -h 15 main; cd / && sudo -u postgres psql -XAtc "show server_version" 2>/dev/null' 2> /dev/null); then
    sshok=yes
    cluster=$(sed -n 1p <<< "$out" | tr -s ' ')
    version=$(sed -n '2{s/ .*//;p}' <<< "$out")
  elif [[ $? -ne 255 ]]; then
    sshok=yes   # logged in, but the command failed (no cluster or server down)
    cluster=$(sed -n 1p <<< "$out" | tr -s ' ')
  fi
  printf '%-6s %-12s %-6s %-8s %-4s %-8s %s\n' "$name" "${HOST_ADDR[$name]}" "$netns" "$sshd" "$sshok" "${version:--}" "${cluster:--}"
  [[ $netns == yes && $sshd =~ ^[0-9]+$ && $sshok == yes && $cluster == *' online'* && -n $version ]] || rc=1
done
exit "$rc"
