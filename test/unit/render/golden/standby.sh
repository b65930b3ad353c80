set -euo pipefail
# pg-replication: standby of pg1 on pg2
# observed at plan time: postgresql was not running
host=pg2
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
cluster=(15 main)
standby_include=/etc/postgresql/15/main/conf.d/pg-replication.standby.conf
old_standby_include=/etc/postgresql/15/main/conf.d/pg-replication-standby.conf
include=/etc/postgresql/15/main/conf.d/pg-replication.conf
tuning=/etc/postgresql/15/main/conf.d/pg-replication-tuning.conf
stamp=/var/lib/postgresql/15/.pg-replication-main.rebuild
token=''
slot=pgr_pg2
conn="host='10.77.0.11' port='5432' user='replicator' passfile='/var/lib/postgresql/.pg-replication.pgpass' sslmode='require' dbname='replication' replication='true' connect_timeout='10'"
leader='pg1 (10.77.0.11:5432)'
server_log=/var/log/postgresql/postgresql-15-main.log
start_conf=/etc/postgresql/15/main/start.conf
fence_mark='# pg-replication fenced this member'
minimums=('max_connections|max_connections setting|100' 'max_worker_processes|max_worker_processes setting|8' 'max_wal_senders|max_wal_senders setting|10' 'max_prepared_transactions|max_prepared_xacts setting|0' 'max_locks_per_transaction|max_locks_per_xact setting|64')
standby_file() {
  cat <<'PG_REPLICATION_EOF'
# Managed by pg-replication (Pulumi): this member is a standby of pg1.
primary_conninfo = 'host=''10.77.0.11'' port=''5432'' user=''replicator'' passfile=''/var/lib/postgresql/.pg-replication.pgpass'' sslmode=''require'' application_name=''pg2'' connect_timeout=''10'''
primary_slot_name = pgr_pg2
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

# Standby: makes the member a streaming standby of the leader. A member that already is one keeps
# its data: it is started if stopped, or repointed if it follows another leader; rebuilt only
# when the leader no longer has the WAL it needs (a standby holds nothing of its own). A former
# leader of this cluster rejoins without a copy when its history allows; when it does not, it is
# rebuilt and its own data directory is kept aside, never deleted. A member that is not yet a
# standby is rebuilt: stop, data directory moved aside, pg_basebackup through the member's own
# physical slot on the leader, standby.signal, start; the old data directory comes back if any
# of that fails. A member whose data directory holds data of its own (running or stopped) is
# rebuilt only on a new, non-empty rebuild token; only then is its old directory deleted.

main() {
  : "${standby_include:?}" "${old_standby_include:?}" "${include:?}" "${tuning:?}" "${stamp:?}" "${token?}" "${slot:?}" "${conn:?}" "${leader:?}" "${server_log:?}" "${start_conf:?}" "${fence_mark:?}"
  begin
  prev="$datadir.pg-replication-prev"
  was_running=no
  moved=no
  restoring=no
  signalled=no
  # what becomes of the old data directory once the new standby streams: deleted, or kept aside
  keep_as=""
  standby_file >"$tmp/standby"

  step="checking the member"
  running && was_running=yes
  if [ -e "$prev" ]; then
    # left by a host that died mid-rebuild: the data directory it holds is the member's own
    die "$prev exists (an interrupted rebuild); move it back over $datadir or remove it, then run again"
  fi
  done_token=$(cat "$stamp" 2>/dev/null || true)
  # only a new, non-empty token asks for a rebuild: a token removed or emptied asks for nothing
  requested=no
  if [ -n "$token" ] && [ "$token" != "$done_token" ]; then requested=yes; fi

  step="checking the leader"
  read_leader_system "$conn" || die "cannot reach $leader for replication: $reason"
  control=$(controldata)
  own_system=$(control_field "$control" "Database system identifier")
  # a hot standby refuses to run below its leader: hold such settings at the leader's value
  rm -f "$old_standby_include"
  hold_at_leader "$tuning" "$include"

  if in_recovery && [ "$requested" = no ] && [ "$own_system" = "$leader_system" ]; then
    step="following $leader"
    ensure_slot || die "cannot keep slot $slot on $leader: $reason"
    install_file "$tmp/standby" "$standby_include" 644
    from=$(log_lines)
    if ! running; then
      say "the standby was stopped: starting it (its data is kept)"
      start_server || die "$reason"
    elif [ ${#changed[@]} -gt 0 ]; then
      say "pointing the standby at $leader"
      reload_server
    fi
    step="waiting for the standby to stream from $leader"
    if wait_streaming 60; then
      drop_own_stale_slots
      committed=yes
      autostart_again
      say "standby of $leader: streaming"
      exit 0
    fi
    wal_gone "$from" || wal_gone "$(($(log_lines) - 200))" ||
      die "the standby does not stream from $leader (its log: $server_log): is $leader reachable, and does its pg_hba admit this member?"
    say "the WAL it needs is gone from $leader (recycled before it got it): rebuilding it from $leader (a standby holds nothing of its own)"
    as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1 || true
    requested=wal
  fi

  if ! in_recovery && [ "$requested" = no ] && [ "$own_system" = "$leader_system" ]; then
    # a former leader of this cluster (switchover or failover): follow the new one, no copy
    step="rejoining $leader as a standby"
    say "a former leader of this cluster: rejoining $leader as a standby"
    ensure_slot || die "cannot keep slot $slot on $leader: $reason"
    if running; then try pg_ctlcluster "${cluster[@]}" stop -m fast || die "$reason"; fi
    read_leader_system "$conn" || die "cannot reach $leader for replication: $reason"
    install_file "$tmp/standby" "$standby_include" 644
    signal_standby
    signalled=yes
    if can_follow_leader "$conn" && start_server && wait_streaming 30; then
      drop_own_stale_slots
      committed=yes
      autostart_again
      say "standby of $leader: rejoined and streaming"
      exit 0
    fi
    as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1 || true
    rm -f "$datadir/standby.signal"
    signalled=no
    # it may hold transactions the leader never got: its directory is kept, never deleted here
    keep_as="$datadir.pg-replication-diverged-$(date -u +%Y%m%dT%H%M%SZ)"
    say "it cannot follow $leader (its history has diverged): rebuilding it from $leader; its own data directory is kept as $keep_as"
  fi

  step="checking that the member may be rebuilt"
  if [ "$requested" = no ] && [ "$own_system" != "$leader_system" ]; then
    own=$(holds_data)
    [ -z "$own" ] || die "it is not a standby of $leader and its data directory holds $own (running or not); set its rebuild token in config to replace it with a copy of the leader"
  fi

  if delta_ready; then rebuild_from_backup; fi

  step="stopping the member"
  say "rebuilding as a standby of $leader (pg_basebackup)"
  stop_for_replacement
  mv "$datadir" "$prev"
  moved=yes
  # made by postgres in its own folder: a link planted at the name is no way into root's
  as_postgres mkdir -m 700 "$datadir"

  step="pg_basebackup from $leader"
  # a slot left by an earlier attempt holds WAL from its own start: replace it, and reserve WAL
  # from now on before the copy starts (pg_basebackup's own -C creates it later, and a checkpoint in
  # between, say another standby's copy, can recycle a segment the copy still needs)
  as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true
  ensure_slot || die "cannot create slot $slot on $leader: $reason"
  if ! as_postgres "$pgbin/pg_basebackup" -w -d "$conn" -D "$datadir" -X stream -S "$slot" -c fast -P -v 2>&1 |
    tr '\r' '\n' | awk '/kB \(/ { if (++n % 20 != 1) next } { print; fflush() }'; then
    die "pg_basebackup from $leader failed (see above)"
  fi
  signal_standby
  install_file "$tmp/standby" "$standby_include" 644

  step="starting the standby"
  start_server || die "$reason"
  step="waiting for the new standby to stream from $leader"
  wait_streaming 120 || die "the new standby does not stream from $leader"
  drop_own_stale_slots
  write_stamp "$token"
  committed=yes
  autostart_again
  if [ -n "$keep_as" ]; then
    mv "$prev" "$keep_as"
    say "standby of $leader: rebuilt and streaming; its former data directory is $keep_as (remove it once nothing in it is needed)"
    exit 0
  fi
  # the old copy can be large: remove it in the background, detached from this SSH session
  mv "$prev" "$prev.removing.$$"
  setsid rm -rf "$prev.removing.$$" </dev/null >/dev/null 2>&1 &
  say "standby of $leader: rebuilt and streaming"
}

# delta_ready: whether a rebuild may restore the stanza's latest backup over this member's own
# files (rebuild_stanza set): only over a data directory of this cluster's system that is not to
# be kept aside, and only when the repository holds a backup; otherwise the leader is copied
delta_ready() {
  [ -n "${rebuild_stanza:-}" ] && [ "$own_system" = "$leader_system" ] && [ -z "$keep_as" ] || return 1
  as_postgres test -f "$datadir/PG_VERSION" || return 1
  if ! as_postgres pgbackrest --stanza="$rebuild_stanza" --output=json info 2>/dev/null | grep -q '"backup":\[{'; then
    say "stanza $rebuild_stanza holds no backup this member can read: copying the leader instead"
    return 1
  fi
}

# rebuild_from_backup: pgbackrest restore --delta of the latest backup (only the files that differ
# are written), then the archived WAL and the stream. Its old files are overwritten in place, so
# nothing is kept aside: until it streams, start.conf says manual (a half-restored directory
# never starts by itself) and a failure leaves it stopped for a rerun to finish.
rebuild_from_backup() {
  step="stopping the member"
  say "rebuilding as a standby of $leader from stanza $rebuild_stanza's latest backup (pgbackrest restore --delta: only what differs is written)"
  stop_for_replacement
  was_running=no
  restoring=yes
  if [ "$(grep -v '^[[:space:]]*#' "$start_conf" 2>/dev/null | tr -d '[:space:]')" != manual ]; then
    printf '%s\n' "$fence_mark (a rebuild from the backups is under way): it starts by hand only, until it streams" manual |
      write_as_postgres "$start_conf" 644 || die "cannot write $start_conf"
  fi
  step="pgbackrest restore --delta from stanza $rebuild_stanza"
  as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true
  ensure_slot || die "cannot create slot $slot on $leader: $reason"
  local out
  out=$(as_postgres pgbackrest --stanza="$rebuild_stanza" --delta --type=standby restore 2>&1) ||
    die "$(why "$out")"
  # the server's default follows the latest timeline; a recovery_target_timeline removed once the
  # server runs would wait for a restart (it is read at start only), so none is left to remove
  as_postgres sed -i -e '/^recovery_target_timeline = /d' "$datadir/postgresql.auto.conf" ||
    die "cannot edit $datadir/postgresql.auto.conf"
  install_file "$tmp/standby" "$standby_include" 644

  step="starting the standby"
  start_server || die "$reason"
  step="waiting for the standby to replay the archived WAL and stream from $leader"
  wait_streaming 600 || die "the restored standby does not stream from $leader (its log: $server_log)"
  # streaming now: the archive is read no more (a member promoted by hand may archive a timeline
  # that is not the leader's, and a standby reading the archive would follow it)
  step="removing the restore's recovery settings"
  as_postgres sed -i -e '/^# Recovery settings generated by pgBackRest/d' -e '/^restore_command = /d' \
    "$datadir/postgresql.auto.conf" || die "cannot edit $datadir/postgresql.auto.conf"
  reload_server
  drop_own_stale_slots
  write_stamp "$token"
  committed=yes
  autostart_again
  say "standby of $leader: rebuilt from the backups and streaming"
  exit 0
}

rollback() {
  if [ "$restoring" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m immediate >/dev/null 2>&1
    restore_files
    say "the member stays stopped (start.conf manual): its data directory is partly restored; run up again to finish the rebuild"
    return
  fi
  if [ "$moved" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m immediate >/dev/null 2>&1
    rm -rf "$datadir"
    mv "$prev" "$datadir"
  elif [ "$signalled" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1
    rm -f "$datadir/standby.signal"
  fi
  restore_files
  if [ "$was_running" = yes ] && ! running; then pg_ctlcluster "${cluster[@]}" start >/dev/null 2>&1; fi
}
# stop_for_replacement: stops a member whose data directory is about to be replaced. Immediate:
# the pages it has not written yet are not worth writing (at scale 200 a fast stop spent 3 s on
# them), and a rollback that starts the old directory again replays its WAL, which keeps every
# commit. A directory kept aside (keep_as) was stopped cleanly before this.
stop_for_replacement() {
  if running; then try pg_ctlcluster "${cluster[@]}" stop -m immediate || die "$reason"; fi
}
# the leader keeps a physical slot for this member, so that it never recycles WAL the member needs
ensure_slot() {
  local out
  out=$(as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "CREATE_REPLICATION_SLOT $slot PHYSICAL RESERVE_WAL" 2>&1) && return 0
  case "$out" in *"already exists"*) return 0 ;; esac
  reason=$(why "$out")
  return 1
}
# slots this member kept while it was a leader hold WAL for nobody now
drop_own_stale_slots() {
  sql -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like 'pgr\_%' and not active" >/dev/null 2>&1 || true
}
# wal_gone: whether the server's log says, since LINE, that the leader no longer has the WAL this
# standby needs (recycled before it got it): a standby holds nothing of its own, so it is rebuilt
wal_gone() {
  tail -n +"${1:-1}" "$server_log" 2>/dev/null | grep -q 'requested WAL segment [0-9A-F]* has already been removed'
}
log_lines() { wc -l <"$server_log" 2>/dev/null || echo 0; }
# write_stamp TOKEN: the rebuild stamp, in postgres's folder: written as postgres and renamed into
# place (a link planted at its name is replaced, not followed)
write_stamp() { printf '%s\n' "$1" | write_as_postgres "$stamp" 644; }
leader_value() { as_postgres "$pgbin/psql" -w -X -A -t -d "$conn" -c "SHOW $1" 2>/dev/null || true; }
held() {
  echo "$1 = $2 # held at the leader's value" >>"$tmp/standby"
  say "holding $1 at $2, the leader's (this member alone would run with $3)"
}

# a member its fence step kept from starting by itself (start.conf manual) starts with the host
# again once it is a streaming standby: only the mark the fence step wrote is undone
autostart_again() {
  grep -qF "$fence_mark" "$start_conf" 2>/dev/null || return 0
  if echo auto | write_as_postgres "$start_conf" 644; then
    say "$start_conf: auto again (it was fenced while marked down)"
  else
    say "could not set $start_conf back to auto: it will not start by itself at boot until it says auto"
  fi
}

main "$@"
