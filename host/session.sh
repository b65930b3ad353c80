# shellcheck shell=bash
# What every script a host receives shares, before its library: `why`, the host's lock, and the
# session's watch.
#
# A step cancelled hard (the program killed, its connection cut) leaves its script running with
# nobody reading it: bash would go on, then die at its next line of output (SIGPIPE), at any
# point, with no exit trap to take the step back. watch_session turns that into an ordinary
# failure: a watcher sees the ssh session gone, stops what the script runs (servers it started
# have left its tree and are kept), then the script, whose handler (the library's
# session_ended) and exit trap take the step back.
# A script that no sshd runs (by hand, in a test) is not watched.

# the line of a command's output that says why it failed: the first error, else the last line
why() { printf '%s\n' "$1" | awk 'NF { last = $0 } /(FATAL|ERROR|error|failed):/ && !found { found = $0 } END { print (found ? found : last) }'; }

# lock_host: one run at a time on this host, from begin to the script's end, a migration's
# scripts included: a second run, or a cancelled one whose script goes on, would overwrite this
# one's .prev copies, or restart the server under a copy. The lock lives in a folder only root
# writes (/run/pg-replication), and is held by a flock process of its own that ends with this
# script (killed by the exit trap, or seeing it gone): a server this script starts inherits
# nothing that keeps it. Waits lock_wait seconds at most, then fails in one line.
lock_host() {
  local file=${lock_file:-/run/pg-replication/lock} wait=${lock_wait:-300} answer=""
  [ -n "${lock_file:-}" ] || install -d -o root -g root -m 700 /run/pg-replication
  # shellcheck disable=SC2016 # expanded by the inner sh
  exec 9< <(exec flock -o -w "$wait" "$file" sh -c 'echo locked; exec tail --pid="$1" -s 0.2 -f /dev/null >/dev/null' sh "$$" </dev/null 2>/dev/null)
  lock_holder=$!
  read -r answer <&9 || true
  exec 9<&-
  if [ "$answer" != locked ]; then
    # shellcheck disable=SC2154 # host: the script's header sets it
    echo "pg-replication on $host: taking the host's lock failed: another pg-replication run on this host has held $file for more than $wait s (a step still running, or a cancelled one whose script goes on): wait for it to end, then run again; the host is as it was before this step" >&2
    exit 1
  fi
}
unlock_host() { [ -z "${lock_holder:-}" ] || kill "$lock_holder" 2>/dev/null || true; }

# descendants PID SKIP...: every process under PID, parents first, but none of SKIP or under them
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    [[ " ${*:2} " != *" $child "* ]] || continue
    echo "$child"
    descendants "$child" "${@:2}"
  done
}

# watch_session: from the library's begin; the lock's holder is kept, so the lock lasts until the
# exit trap is done
watch_session() {
  local pid=$$ session="" comm
  while [ -z "$session" ] && [ "${pid:-1}" -gt 1 ]; do
    pid=$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    comm=$(cat "/proc/${pid:-1}/comm" 2>/dev/null || true)
    case $comm in sshd*) session=$pid ;; esac
  done
  [ -n "$session" ] || return 0
  trap 'unwatch; session_ended' TERM PIPE
  (
    while kill -0 "$session" 2>/dev/null && kill -0 "$$" 2>/dev/null; do sleep 0.5; done
    kill -0 "$$" 2>/dev/null || exit 0
    # read here: inside $(...) below, $BASHPID would be that subshell's own
    watcher=$BASHPID
    for child in $(descendants "$$" "$watcher" "${lock_holder:-}"); do kill -TERM "$child" 2>/dev/null || true; done
    kill -TERM "$$"
  ) </dev/null >/dev/null 2>&1 &
  session_watcher=$!
  # not a job of the script: its `wait` and `wait -n` must never wait for the watcher
  disown "$session_watcher"
}
# unwatch: first in every exit trap. The watcher ends, and a late TERM or a write to the closed
# session no longer stops the script: the trap's own work runs to its end.
unwatch() {
  trap : TERM PIPE
  [ -z "${session_watcher:-}" ] || kill "$session_watcher" 2>/dev/null || true
}
