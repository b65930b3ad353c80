set -euo pipefail
# pg-replication: the leader on pg2
host=pg2
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
cluster=(15 main)
standby_include=/etc/postgresql/15/main/conf.d/pg-replication.standby.conf
down_addresses=(10.77.0.11)

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

# shellcheck shell=bash
# What every host script shares. A member receives one script on stdin of `sudo -n bash -s`: a
# header of quoted values (render/hostScript.ts), this file, then the verb's own file, whose last
# line runs its main. Until then nothing runs but assignments and definitions, so a script cut
# short on its way does nothing.
#
# Each script either finishes what it set out to do or puts back every file it changed and the
# server's state (its rollback, from the exit trap), and says why in one line. No script runs a
# tool that parses the files it is checking: psql and pg_ctl are called by their full path, with
# the port and socket from postmaster.pid, not through Debian's wrappers.

# the state the exit trap reads, the host's lock, a scratch directory, and the trap itself
begin() {
  : "${host:?}" "${pgbin:?}" "${datadir:?}" "${cluster[*]:?}"
  step="starting"
  reason=""
  changed=()
  committed=no
  lock_host
  watch_session
  # private: copies of pg_hba and verifiers pass through it (root's alone; postgres reads nothing here)
  tmp=$(mktemp -d)
  chmod 700 "$tmp"
  trap on_exit EXIT
}

session_ended() {
  reason="the step's ssh session ended (the run was cancelled, or its connection was cut)"
  exit 1
}

say() { echo "pg-replication on $host: $*"; }
die() {
  reason="$*"
  exit 1
}
# from /: postgres may not enter the folder the script runs in
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
running() { as_postgres "$pgbin/pg_ctl" status -D "$datadir" >/dev/null 2>&1; }
in_recovery() { test -e "$datadir/standby.signal"; }
sql() {
  local port sock
  port=$(sed -n 4p "$datadir/postmaster.pid")
  sock=$(sed -n 5p "$datadir/postmaster.pid")
  as_postgres "$pgbin/psql" -w -X -A -t -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -d postgres "$@"
}
# runs a command; on failure the line that says why becomes the reason
try() {
  local out
  if ! out=$("$@" 2>&1); then
    reason=$(why "$out")
    return 1
  fi
  [ -z "$out" ] || printf '%s\n' "$out"
}
# start_server: pg_ctlcluster start, until the server takes connections. Debian's pg_ctlcluster
# goes on probing a server that already runs (three connections half a second apart: two seconds
# of every start); that probe runs on by itself, its output into a file, and only a start that
# fails is waited for, to say why.
start_server() {
  local out=$tmp/start.out pid
  pg_ctlcluster "${cluster[@]}" start </dev/null >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sql -c "select 1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  wait "$pid" && return 0
  reason=$(why "$(cat "$out")")
  return 1
}
# retry_on_backrest_lock COMMAND...: runs a pgbackrest command, again for up to a minute while
# another pgBackRest process holds the stanza's lock (ERROR [050]: a member's archive-push or check
# meeting this step); prints its output, and returns its status once it is not that
retry_on_backrest_lock() {
  local out rc
  for _ in $(seq 120); do
    rc=0
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ] || [[ $out != *"ERROR: [050]"* ]]; then break; fi
    sleep 0.5
  done
  printf '%s\n' "$out"
  return "$rc"
}
reload_server() {
  local loaded
  loaded=$(sql -c "select pg_conf_load_time()")
  sql -c "select pg_reload_conf()" >/dev/null
  # the reload is a signal: wait until the postmaster has read the files (new sessions show it)
  for _ in $(seq 100); do
    [ "$(sql -c "select pg_conf_load_time()")" != "$loaded" ] && return 0
    sleep 0.05
  done
}
# install_file SRC DEST MODE: installs SRC as DEST, in a folder postgres owns, when different,
# saving the previous version for the trap. Every write there is made as postgres (the new
# content comes on stdin, into a private temporary file renamed into place): a link postgres
# planted leads nowhere postgres could not write already. A DEST that is a link, or not a
# regular file, is refused.
install_file() {
  local src=$1 dest=$2 mode=$3
  if [ -L "$dest" ] || { [ -e "$dest" ] && [ ! -f "$dest" ]; }; then
    die "$dest is a link or not a regular file: refusing to write through it (remove it, then run again)"
  fi
  cmp -s "$src" "$dest" && return 0
  if [ -e "$dest" ]; then
    as_postgres cp --remove-destination --preserve=mode,timestamps "$dest" "$dest.pg-replication.prev" || die "cannot keep a copy of $dest"
  else
    as_postgres rm -f "$dest.pg-replication.prev"
  fi
  changed+=("$dest")
  write_as_postgres "$dest" "$mode" <"$src" || die "cannot write $dest"
  say "updated $dest"
}
# write_as_postgres DEST MODE: stdin as DEST, written by postgres into a private temporary file
# next to it and renamed into place (a link at DEST is replaced, not followed)
write_as_postgres() {
  # shellcheck disable=SC2016 # expanded by the inner sh
  as_postgres sh -c 'umask 077 && t=$(mktemp "$1.pg-replication.XXXXXX") && { cat >"$t" && chmod "$2" "$t" && mv -f -T "$t" "$1" || { rm -f "$t"; exit 1; }; }' sh "$1" "$2"
}
# puts back the files install_file replaced (as postgres: the folders are postgres's)
restore_files() {
  local f
  for f in "${changed[@]}"; do
    if [ -e "$f.pg-replication.prev" ]; then as_postgres mv -f -T "$f.pg-replication.prev" "$f"; else as_postgres rm -f "$f"; fi
  done
}
# configured NAME FALLBACK FILE...: the value the files give a setting (the last one wins)
configured() {
  local name=$1 fallback=$2 value
  shift 2
  value=$(cat "$@" 2>/dev/null | awk -v n="$name" -F'[[:space:]]*=[[:space:]]*' '$1 == n { split($2, v, " "); w = v[1] } END { print w }')
  echo "${value:-$fallback}"
}
wait_streaming() { # seconds
  for _ in $(seq $(($1 * 10))); do
    [ "$(sql -c "select status from pg_stat_wal_receiver" 2>/dev/null)" = streaming ] && return 0
    sleep 0.1
  done
  return 1
}
on_exit() {
  local rc=$?
  unwatch
  trap - EXIT
  set +e
  if [ "$rc" -ne 0 ] && [ "$committed" = no ]; then
    rollback
    echo "pg-replication on $host: $step failed: ${reason:-exit status $rc}; the host is as it was before this step" >&2
  fi
  rm -rf "$tmp"
  unlock_host
  exit "$rc"
}

controldata() { as_postgres "$pgbin/pg_controldata" -D "$datadir"; }
# control_field CONTROL LABEL: one field of pg_controldata's output
control_field() { printf '%s\n' "$1" | awk -F':[[:space:]]*' -v l="$2" '$1 == l { print $2 }'; }

# hold_at_leader FILE...: a hot standby refuses to run below its leader. For each such setting
# (minimums: NAME|LABEL|FALLBACK) that FILE... set below the leader's value, calls the script's
# `held NAME LEADER_VALUE WANTED`; the script's `leader_value NAME LABEL` prints that value.
hold_at_leader() {
  local entry name label fallback want value
  : "${minimums[*]:?}"
  for entry in "${minimums[@]}"; do
    IFS='|' read -r name label fallback <<<"$entry"
    want=$(configured "$name" "$fallback" "$@")
    value=$(leader_value "$name" "$label")
    if [ -n "$value" ] && [ "$want" -lt "$value" ] 2>/dev/null; then
      held "$name" "$value" "$want"
    fi
  done
}

# read_leader_system CONN: the leader's system identifier (one cluster's lineage) and timeline,
# over the replication connection CONN; sets leader_system and leader_timeline, or reason
read_leader_system() {
  local out
  out=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$1" -c IDENTIFY_SYSTEM 2>&1) || {
    reason=$(why "$out")
    return 1
  }
  # shellcheck disable=SC2034 # the caller's
  leader_system=$(printf '%s\n' "$out" | cut -d'|' -f1)
  leader_timeline=$(printf '%s\n' "$out" | cut -d'|' -f2)
}
# an LSN (X/Y) as a number, to compare two
lsn_number() {
  local hi=${1%%/*} lo=${1#*/}
  echo $(((16#$hi << 32) | 16#$lo))
}
# can_follow_leader CONN: whether this stopped member can follow the leader (whose timeline
# read_leader_system read) without a copy: its last checkpoint is on a timeline the leader's
# history passes through, at or before the point the leader forked off it (the check PostgreSQL
# itself makes when it starts, fatally, as a standby)
can_follow_leader() {
  local control own_tli own_lsn history fork
  control=$(controldata) || return 1
  own_tli=$(control_field "$control" "Latest checkpoint's TimeLineID")
  own_lsn=$(control_field "$control" "Latest checkpoint location")
  [ -n "$own_tli" ] && [ -n "$own_lsn" ] && [ -n "$leader_timeline" ] || return 1
  [ "$own_tli" = "$leader_timeline" ] && return 0
  [ "$own_tli" -lt "$leader_timeline" ] || return 1
  history=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$1" -c "TIMELINE_HISTORY $leader_timeline" 2>/dev/null) || return 1
  # the first line starts with the file's name and psql's column separator
  fork=$(printf '%s\n' "$history" | sed 's/^[0-9A-F]*\.history|//' | awk -F'\t' -v t="$own_tli" '$1 == t { print $2; exit }')
  [ -n "$fork" ] && [ "$(lsn_number "$own_lsn")" -le "$(lsn_number "$fork")" ]
}

# holds_data: prints what of its own the data directory holds, running or stopped: a database
# made after initdb, or a table (any relation file) in one of initdb's, postgres included. Object
# ids from 16384 on are the user's (PostgreSQL's FirstNormalObjectId).
holds_data() {
  local dbs rels
  dbs=$(find "$datadir/base" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9]+' -printf '%f\n' 2>/dev/null | awk '$1 >= 16384' | wc -l)
  rels=$(find "$datadir/base" -mindepth 2 -maxdepth 2 -type f -regex '.*/[0-9]+' -printf '%f\n' 2>/dev/null | awk '$1 >= 16384' | wc -l)
  if [ "$dbs" -gt 0 ] || [ "$rels" -gt 0 ]; then echo "$dbs databases and $rels relation files of its own"; fi
}


# signal_standby: standby.signal in the data directory, made as postgres: the directory is
# postgres's, so root writes nothing through a link planted there
signal_standby() { as_postgres touch "$datadir/standby.signal"; }

# put_as USER DEST MODE: stdin becomes DEST, written as USER (DEST's folder is USER's: root
# writes nothing through a link planted there), if it differs; the former text is kept beside it
# until the step commits. Returns 1 when nothing changed.
put_as() {
  local user=$1 dest=$2 mode=$3
  # shellcheck disable=SC2016 # expanded by the inner sh
  runuser -u "$user" -- sh -c 'umask 077; cat >"$1.pg-replication.new" && chmod "$2" "$1.pg-replication.new"' sh "$dest" "$mode"
  if runuser -u "$user" -- cmp -s "$dest.pg-replication.new" "$dest"; then
    runuser -u "$user" -- rm -f "$dest.pg-replication.new"
    return 1
  fi
  if runuser -u "$user" -- test -e "$dest"; then
    runuser -u "$user" -- cp -p "$dest" "$dest.pg-replication.prev"
  else
    runuser -u "$user" -- rm -f "$dest.pg-replication.prev"
  fi
  runuser -u "$user" -- mv -f "$dest.pg-replication.new" "$dest"
  put_changed+=("$user:$dest")
  say "updated $dest"
}

# restore_put: what put_as changed in this step goes back as it was
restore_put() {
  local entry user f
  for entry in "${put_changed[@]}"; do
    user=${entry%%:*} f=${entry#*:}
    if runuser -u "$user" -- test -e "$f.pg-replication.prev"; then
      runuser -u "$user" -- mv -f "$f.pg-replication.prev" "$f"
    else
      runuser -u "$user" -- rm -f "$f"
    fi
  done
}

# with_block USER FILE TAG: FILE's text (read as USER) with the lines between this program's
# markers for TAG replaced by stdin; the rest of the file, the user's own lines, as it was.
with_block() {
  local user=$1 file=$2 tag=$3 block
  block=$(cat)
  { runuser -u "$user" -- cat "$file" 2>/dev/null || true; } |
    awk -v b="# pg-replication $tag begin" -v e="# pg-replication $tag end" '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip'
  printf '# pg-replication %s begin\n%s\n# pg-replication %s end\n' "$tag" "$block" "$tag"
}

home_of() { getent passwd "$1" | cut -d: -f6; }

# Promote, on the leader: a running primary stays as it is (a stopped one is started). A standby
# is promoted once its old leader is gone (stopped by its demote step, or marked down in config)
# and it has replayed all the WAL it received, then checkpoints so that a former leader can
# follow the new timeline at once.

main() {
  : "${standby_include:?}" "${down_addresses[*]-}" # down_addresses may be empty
  begin

  step="checking the member"
  if ! running; then
    say "postgresql ${cluster[*]} is down: starting it"
    start_server || die "$reason"
  fi
  if ! in_recovery; then
    committed=yes
    say "the leader: a running primary"
    exit 0
  fi

  step="checking that the old leader is gone"
  for _ in $(seq 150); do
    read -r status sender <<<"$(sql -c "select status, coalesce(sender_host, '') from pg_stat_wal_receiver" | tr '|' ' ')"
    [ "$status" = streaming ] || break
    for a in "${down_addresses[@]}"; do [ "$sender" = "$a" ] && break 2; done
    sleep 0.2
  done
  if [ "$status" = streaming ] && ! printf '%s\n' "${down_addresses[@]}" | grep -qxF "$sender"; then
    die "it still streams from $sender, a leader that is alive: stop it (its demote step does) or mark it down in config"
  fi

  step="replaying what it received"
  for _ in $(seq 600); do
    [ "$(sql -c "select coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true)")" = t ] && break
    sleep 0.1
  done

  step="promoting"
  say "promoting $host to leader"
  try as_postgres "$pgbin/pg_ctl" promote -D "$datadir" -w -t 120 || die "$reason"
  committed=yes
  rm -f "$standby_include"
  sql -c "checkpoint"
  say "the leader: promoted, on timeline $(sql -c "select timeline_id from pg_control_checkpoint()")"
}

# nothing to put back before the promotion, and nothing can be after it
rollback() { :; }

main "$@"
