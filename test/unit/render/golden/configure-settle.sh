set -euo pipefail
# pg-replication: configuration, settle pass on pg1
host=pg1
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
cluster=(15 main)
confdir=/etc/postgresql/15/main
settle=yes
include=/etc/postgresql/15/main/conf.d/pg-replication.conf
tuning=/etc/postgresql/15/main/conf.d/pg-replication-tuning.conf
hba=/etc/postgresql/15/main/pg_hba.conf
hba_begin='# BEGIN pg-replication (managed by Pulumi; edits inside this block are overwritten)'
hba_end='# END pg-replication'
minimums=('max_connections|max_connections setting|100' 'max_worker_processes|max_worker_processes setting|8' 'max_wal_senders|max_wal_senders setting|10' 'max_prepared_transactions|max_prepared_xacts setting|0' 'max_locks_per_transaction|max_locks_per_xact setting|64')
conf_file() {
  cat <<'PG_REPLICATION_EOF'
# Managed by pg-replication (Pulumi), cluster main. Edits are overwritten.
hot_standby = on
hot_standby_feedback = on
listen_addresses = '*'
max_connections = 100
max_locks_per_transaction = 64
max_prepared_transactions = 0
max_replication_slots = 10
max_slot_wal_keep_size = 10GB
max_wal_senders = 10
password_encryption = 'scram-sha-256'
port = 5432
wal_level = replica
wal_log_hints = on
wal_receiver_timeout = 60s
wal_sender_timeout = 60s
PG_REPLICATION_EOF
}
tuning_file() {
  cat <<'PG_REPLICATION_EOF'
# Managed by pg-replication (Pulumi): tuning of pg1 for 8192 MiB of memory and 4 CPUs.
# Override a value in clusters[].tuning, or any setting in clusters[].settings.
shared_buffers = 2048MB
effective_cache_size = 5734MB
work_mem = 20MB
maintenance_work_mem = 409MB
max_wal_size = 2048MB
min_wal_size = 512MB
wal_buffers = 16MB
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
max_parallel_maintenance_workers = 2
random_page_cost = 1.1
effective_io_concurrency = 200
checkpoint_completion_target = 0.9
PG_REPLICATION_EOF
}
hba_block_file() {
  cat <<'PG_REPLICATION_EOF'
# BEGIN pg-replication (managed by Pulumi; edits inside this block are overwritten)
hostssl all             a               10.77.0.254/32          scram-sha-256
hostssl replication     r               10.77.0.11/32           scram-sha-256
hostssl replication     r               10.77.0.12/32           scram-sha-256
hostssl replication     r               10.77.0.13/32           scram-sha-256
host    all             r               0.0.0.0/0               reject
host    all             r               ::/0                    reject
local   all             r                                       reject
hostssl appdb           app             10.77.0.0/24            scram-sha-256
# END pg-replication
PG_REPLICATION_EOF
}

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

# Configuration: installs the conf.d includes and the managed pg_hba block, has the running server
# check them (pg_file_settings, pg_hba_file_rules) before anything is applied, then reloads, and
# restarts only when a changed setting needs it; a standby is back and streaming before the
# script ends. On a standby, settings that must not fall below the leader's are held at the
# leader's value (from pg_controldata) until the leader has lowered them: the settle pass after
# the leader's step lowers them then. A stopped standby is started; a stopped server without
# standby.signal is left stopped with its files installed and checked (the lead step starts the
# leader, the follow step decides for the others: a non-leader never starts writable). Nothing
# changed: nothing is touched, unless the server runs with less than its files say (an earlier
# run stopped between installing and applying them).

main() {
  : "${confdir:?}" "${include:?}" "${tuning:?}" "${hba:?}" "${hba_begin:?}" "${hba_end:?}" "${settle:?}"
  begin
  was_running=no
  reloaded=no
  restarted=no
  conf_file >"$tmp/conf"
  tuning_file >"$tmp/tuning"
  hba_block_file >"$tmp/hba_block"

  step="checking the server"
  stopped=no
  if running; then
    was_running=yes
  elif in_recovery; then
    say "postgresql ${cluster[*]} is down: starting it (a standby)"
    start_server || die "$reason"
    was_running=yes
  else
    stopped=yes
    say "postgresql ${cluster[*]} is down and not a standby: left stopped (the lead step starts the leader, the follow step the others)"
  fi

  step="preparing the files"
  if in_recovery && [ "$settle" = yes ]; then
    # after the leader's step: its new values reach this standby's pg_control once it has replayed
    # what the leader wrote at its restart
    wait_streaming 60 || true
    for _ in $(seq 300); do
      [ "$(sql -c "select coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true)")" = t ] && break
      sleep 0.1
    done
  fi
  if in_recovery; then
    # a standby refuses to run below its leader: hold such settings at the leader's value for now
    control=$(controldata)
    hold_at_leader "$tmp/tuning" "$tmp/conf"
  fi
  awk -v begin="$hba_begin" -v end="$hba_end" '
    $0 == begin { skip = 1; next }
    $0 == end { skip = 0; next }
    !skip { print }' "$hba" >"$tmp/hba_rest"
  cat "$tmp/hba_block" "$tmp/hba_rest" >"$tmp/hba"

  step="installing the files"
  # as postgres: the folders are postgres's, and root writes nothing through a link planted there
  [ -e "$hba.pg-replication.orig" ] || as_postgres cp --remove-destination --preserve=mode,timestamps "$hba" "$hba.pg-replication.orig"
  as_postgres mkdir -p -m 755 "$confdir/conf.d"
  install_file "$tmp/conf" "$include" 644
  install_file "$tmp/tuning" "$tuning" 644
  install_file "$tmp/hba" "$hba" 640
  if [ "$stopped" = yes ]; then
    step="checking the new files with the postmaster's own reading"
    check_offline
    committed=yes
    say "configuration installed; applied when the server starts"
    exit 0
  fi
  if [ ${#changed[@]} -eq 0 ] && ! behind_files; then
    committed=yes
    say "configuration unchanged"
    exit 0
  fi
  [ ${#changed[@]} -gt 0 ] || say "the files are in place but the server has not applied them all (an interrupted run): applying them"

  step="checking the new files with the server's own parser"
  errors=$(sql -c "select 'pg_hba.conf line ' || line_number || ': ' || error from pg_hba_file_rules where error is not null
                   union all select sourcefile || ' line ' || sourceline || ': ' || name || ': ' || error from pg_file_settings
                   where error is not null and error <> 'setting could not be applied'" | paste -sd ';' -)
  [ -z "$errors" ] || die "the server refuses the new configuration: $errors"
  check_offline

  step="reloading"
  reloaded=yes
  reload_server
  pending=$(sql -c "select string_agg(name, ', ' order by name) from pg_settings where pending_restart")
  if [ -z "$pending" ]; then
    committed=yes
    say "reloaded postgresql ${cluster[*]}"
    exit 0
  fi

  step="restarting for $pending"
  if in_recovery; then role=standby; else role=primary; fi
  # a standby is waited for only if it streamed before: one that cannot yet (its leader or the
  # replication role comes later in this update) is the follow step's business
  streamed=no
  [ "$role" = primary ] || [ "$(sql -c "select status from pg_stat_wal_receiver")" != streaming ] || streamed=yes
  say "restarting postgresql ${cluster[*]} ($role) for: $pending"
  restarted=yes
  try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"
  start_server || die "$reason"
  if [ "$streamed" = yes ]; then
    step="waiting for the standby to stream again"
    wait_streaming 120 || die "the standby is not streaming 120 s after its restart"
    say "streaming again"
  fi
  committed=yes
}

# puts back the changed files and the server as it was
rollback() {
  restore_files
  if [ "$was_running" = yes ]; then
    if running; then
      [ "$reloaded" = no ] || reload_server
      [ "$restarted" = no ] || pg_ctlcluster "${cluster[@]}" restart -m fast >/dev/null 2>&1
    else
      pg_ctlcluster "${cluster[@]}" start >/dev/null 2>&1
    fi
  fi
}

# pg_file_settings says only "could not be applied" for a bad value, as for a pending restart:
# the postmaster's own reading of the files (-C exits after it) names the bad value
check_offline() {
  local checked
  if ! checked=$(as_postgres "$pgbin/postgres" -D "$datadir" -c config_file="$confdir/postgresql.conf" -C data_directory 2>&1); then
    die "the server refuses the new configuration: $(printf '%s\n' "$checked" | sed -n 's/^.*\(LOG\|FATAL\|ERROR\): *//p' | head -n 2 | paste -sd ';' -)"
  fi
}
# whether the running server is behind its files: one changed after it last read them, or a
# setting waits for a restart
behind_files() {
  local newest
  # to the nanosecond: a file written in the second of the last reload, after it, is newer
  newest=$(stat -c %.9Y "$include" "$tuning" "$hba" 2>/dev/null | sort -n | tail -n 1)
  [ "$(sql -c "select pg_conf_load_time() < to_timestamp(${newest:-0})")" = t ] && return 0
  [ -n "$(sql -c "select string_agg(name, ', ') from pg_settings where pending_restart")" ]
}
# a standby's pg_control holds the values its leader runs with
leader_value() { control_field "$control" "$2"; }
held() {
  echo "$1 = $2 # held at the leader's value until the leader runs with $3" >>"$tmp/conf"
  say "holding $1 at $2 (the leader's) until the leader runs with $3"
}

main "$@"
