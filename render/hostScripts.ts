// Shell scripts a member receives over SSH, on stdin of `sudo -n bash -s` (the SSH user needs
// passwordless sudo, as the users' own Ansible did). Each one either finishes what it set out to
// do or puts back every file it changed and the server's state, and says why in one line.
// No script runs a tool that parses the files it is checking: psql and pg_ctl are called by
// their full path, with the port and socket from postmaster.pid, not through Debian's wrappers.
import { CONF_DIR, DATA_DIR, HBA_PATH, PG_BIN, PG_CLUSTER, PG_MAJOR, STANDBY_MINIMUMS } from "./postgres15";
import { INCLUDE_PATH } from "./postgresqlConf";
import { HBA_BEGIN, HBA_END } from "./pgHba";
import { TUNING_PATH } from "./tuning";
import { shellQuote } from "./quote";

function heredoc(path: string, content: string): string {
  const marker = "PG_REPLICATION_EOF";
  if (content.split("\n").includes(marker)) throw new Error(`content for ${path} contains the heredoc marker`);
  return `cat > ${path} <<'${marker}'\n${content}${content.endsWith("\n") ? "" : "\n"}${marker}`;
}

/**
 * What every script starts with: names, helpers, and the exit trap that restores the files in
 * `changed` (each saved as FILE.pg-replication.prev first) and the server's running state.
 */
function prelude(host: string, what: string, observed?: string): string {
  return `set -euo pipefail
# pg-replication: ${what} on ${host}${observed ? `\n# observed at plan time: ${observed.replace(/\n/g, " ")}` : ""}
host=${shellQuote(host)}
pgbin=${PG_BIN}
datadir=${DATA_DIR}
confdir=${CONF_DIR}
cluster="${PG_MAJOR} ${PG_CLUSTER}"
step="starting"
reason=""
changed=()
was_running=no
committed=no
reloaded=no
tmp=$(mktemp -d)
chmod 755 "$tmp"

say() { echo "pg-replication on $host: $*"; }
die() { reason="$*"; exit 1; }
as_postgres() { runuser -u postgres -- "$@"; }
running() { as_postgres "$pgbin/pg_ctl" status -D "$datadir" >/dev/null 2>&1; }
in_recovery() { test -e "$datadir/standby.signal"; }
sql() {
  local port sock
  port=$(sed -n 4p "$datadir/postmaster.pid")
  sock=$(sed -n 5p "$datadir/postmaster.pid")
  as_postgres "$pgbin/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -d postgres "$@"
}
# the line of a command's output that says why it failed: the first error, else the last line
why() { printf '%s\\n' "$1" | awk 'NF { last = $0 } /(FATAL|ERROR|error|failed):/ && !found { found = $0 } END { print (found ? found : last) }'; }
# runs a command; on failure the line that says why becomes the reason
try() {
  local out
  if ! out=$("$@" 2>&1); then
    reason=$(why "$out")
    return 1
  fi
  [ -z "$out" ] || printf '%s\\n' "$out"
}
start_server() { try pg_ctlcluster $cluster start; }
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
# install_file SRC DEST MODE: installs when different, saving the previous version for the trap
install_file() {
  if ! cmp -s "$1" "$2"; then
    if [ -e "$2" ]; then cp -p "$2" "$2.pg-replication.prev"; else rm -f "$2.pg-replication.prev"; fi
    changed+=("$2")
    install -o postgres -g postgres -m "$3" "$1" "$2"
    say "updated $2"
  fi
}
restore_files() {
  local f
  for f in "\${changed[@]}"; do
    if [ -e "$f.pg-replication.prev" ]; then mv -f "$f.pg-replication.prev" "$f"; else rm -f "$f"; fi
  done
}
# configured NAME FALLBACK FILE...: the value the files give a setting (the last one wins)
configured() {
  local name=$1 fallback=$2 value
  shift 2
  value=$(cat "$@" 2>/dev/null | awk -v n="$name" -F'[[:space:]]*=[[:space:]]*' '$1 == n { split($2, v, " "); w = v[1] } END { print w }')
  echo "\${value:-$fallback}"
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
  trap - EXIT
  set +e
  if [ "$rc" -ne 0 ] && [ "$committed" = no ]; then
    rollback
    echo "pg-replication on $host: $step failed: \${reason:-exit status $rc}; the host is as it was before this step" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap on_exit EXIT
`;
}

/** Puts back changed files and the server as it was; used by the configuration script's trap. */
const CONFIGURATION_ROLLBACK = `rollback() {
  restore_files
  if [ "$was_running" = yes ]; then
    if running; then
      [ "$reloaded" = no ] || reload_server
      [ "$restarted" = no ] || pg_ctlcluster $cluster restart -m fast >/dev/null 2>&1
    else
      pg_ctlcluster $cluster start >/dev/null 2>&1
    fi
  fi
}
restarted=no
`;

export interface HostConfigurationScript {
  host: string;
  postgresqlConf: string;
  tuningConf: string;
  hbaBlock: string;
  /** The pass after the leader's step: a standby first catches up with a leader that restarted. */
  settle?: boolean;
}

/**
 * Installs the conf.d includes and the managed pg_hba block, has the running server check them
 * (pg_file_settings, pg_hba_file_rules) before anything is applied, then reloads, and restarts
 * only when a changed setting needs it; a standby is back and streaming before the script ends.
 * On a standby, settings that must not fall below the leader's are held at the leader's value
 * (from pg_controldata) until the leader has lowered them: the settle pass after the leader's
 * step lowers them then. A stopped server is started. Nothing changed: nothing is touched.
 */
const minimumsList = () =>
  Object.entries(STANDBY_MINIMUMS)
    .map(([name, m]) => shellQuote(`${name}|${m.label}|${m.fallback}`))
    .join(" ");

export function renderApplyHostConfig(s: HostConfigurationScript): string {
  const minimums = minimumsList();
  return `${prelude(s.host, s.settle ? "configuration, settle pass" : "configuration")}${CONFIGURATION_ROLLBACK}
include=${shellQuote(INCLUDE_PATH)}
tuning=${shellQuote(TUNING_PATH)}
hba=${shellQuote(HBA_PATH)}
${heredoc('"$tmp/conf"', s.postgresqlConf)}
${heredoc('"$tmp/tuning"', s.tuningConf)}
${heredoc('"$tmp/hba_block"', s.hbaBlock)}

step="checking the server"
if running; then
  was_running=yes
else
  say "postgresql $cluster is down: starting it"
  start_server || die "$reason"
  was_running=yes
fi

step="preparing the files"
if in_recovery && [ ${s.settle ? "yes" : "no"} = yes ]; then
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
  control=$(as_postgres "$pgbin/pg_controldata" -D "$datadir")
  for entry in ${minimums}; do
    IFS='|' read -r name label fallback <<<"$entry"
    want=$(configured "$name" "$fallback" "$tmp/tuning" "$tmp/conf")
    leader=$(printf '%s\\n' "$control" | awk -F':[[:space:]]*' -v l="$label" '$1 == l { print $2 }')
    if [ -n "$leader" ] && [ "$want" -lt "$leader" ] 2>/dev/null; then
      echo "$name = $leader # held at the leader's value until the leader runs with $want" >> "$tmp/conf"
      say "holding $name at $leader (the leader's) until the leader runs with $want"
    fi
  done
fi
awk -v begin=${shellQuote(HBA_BEGIN)} -v end=${shellQuote(HBA_END)} '
  $0 == begin { skip = 1; next }
  $0 == end { skip = 0; next }
  !skip { print }' "$hba" > "$tmp/hba_rest"
cat "$tmp/hba_block" "$tmp/hba_rest" > "$tmp/hba"

step="installing the files"
test -e "$hba.pg-replication.orig" || cp -p "$hba" "$hba.pg-replication.orig"
install -d -o postgres -g postgres -m 755 "$confdir/conf.d"
install_file "$tmp/conf" "$include" 644
install_file "$tmp/tuning" "$tuning" 644
install_file "$tmp/hba" "$hba" 640
if [ \${#changed[@]} -eq 0 ]; then
  committed=yes
  say "configuration unchanged"
  exit 0
fi

step="checking the new files with the server's own parser"
errors=$(sql -c "select 'pg_hba.conf line ' || line_number || ': ' || error from pg_hba_file_rules where error is not null
                 union all select sourcefile || ' line ' || sourceline || ': ' || name || ': ' || error from pg_file_settings
                 where error is not null and error <> 'setting could not be applied'" | paste -sd ';' -)
[ -z "$errors" ] || die "the server refuses the new configuration: $errors"
# pg_file_settings says only "could not be applied" for a bad value, as for a pending restart:
# the postmaster's own reading of the files (-C exits after it) names the bad value
if ! checked=$(as_postgres "$pgbin/postgres" -D "$datadir" -c config_file="$confdir/postgresql.conf" -C data_directory 2>&1); then
  die "the server refuses the new configuration: $(printf '%s\\n' "$checked" | sed -n 's/^.*\\(LOG\\|FATAL\\|ERROR\\): *//p' | head -n 2 | paste -sd ';' -)"
fi

step="reloading"
reloaded=yes
reload_server
pending=$(sql -c "select string_agg(name, ', ' order by name) from pg_settings where pending_restart")
if [ -z "$pending" ]; then
  committed=yes
  say "reloaded postgresql $cluster"
  exit 0
fi

step="restarting for $pending"
if in_recovery; then role=standby; else role=primary; fi
say "restarting postgresql $cluster ($role) for: $pending"
restarted=yes
try pg_ctlcluster $cluster restart -m fast || die "$reason"
if [ "$role" = standby ]; then
  step="waiting for the standby to stream again"
  wait_streaming 120 || die "the standby is not streaming 120 s after its restart"
  say "streaming again"
fi
committed=yes
`;
}

export interface StandbyScript {
  host: string;
  leaderName: string;
  leaderAddress: string;
  port: number;
  replicationRole: string;
  slot: string;
  passfile: string;
  /** The rebuild token from config; a new value rebuilds this standby once. */
  rebuild: string;
  /** What the program saw at plan time when it was not a running standby: makes `up` run the step. */
  observed?: string;
}

// read after pg-replication.conf (include_dir reads in name order), so that what it holds wins
export const STANDBY_INCLUDE_PATH = `${CONF_DIR}/conf.d/pg-replication.standby.conf`;
const OLD_STANDBY_INCLUDE_PATH = `${CONF_DIR}/conf.d/pg-replication-standby.conf`;
const REBUILD_STAMP = `/var/lib/postgresql/${PG_MAJOR}/.pg-replication-${PG_CLUSTER}.rebuild`;

/** primary_conninfo: the password stays in the passfile (mode 0600), never in a setting or a log. */
export function renderStandbyConf(s: StandbyScript): string {
  const conninfo = [
    `host=${s.leaderAddress}`,
    `port=${s.port}`,
    `user=${s.replicationRole}`,
    `passfile=${s.passfile}`,
    `application_name=${s.host}`,
    "sslmode=prefer",
    "connect_timeout=10",
  ].join(" ");
  return [
    `# Managed by pg-replication (Pulumi): this member is a standby of ${s.leaderName}.`,
    `primary_conninfo = '${conninfo}'`,
    `primary_slot_name = '${s.slot}'`,
    "",
  ].join("\n");
}

/**
 * Makes the member a streaming standby of the leader. A member that already is one keeps its
 * data: it is started if stopped, or repointed if it follows another leader. Only a member that
 * is not yet a standby (or whose rebuild token changed) is rebuilt: stop, data directory moved
 * aside, pg_basebackup through the member's own physical slot on the leader, standby.signal,
 * start. The old data directory comes back if any of that fails, and is removed once the new
 * standby streams. A member holding databases of its own is never wiped without the token.
 */
export function renderStandbyScript(s: StandbyScript): string {
  return `${prelude(s.host, `standby of ${s.leaderName}`, s.observed)}
include=${shellQuote(STANDBY_INCLUDE_PATH)}
stamp=${shellQuote(REBUILD_STAMP)}
token=${shellQuote(s.rebuild)}
slot=${shellQuote(s.slot)}
${leaderConnection(s)}
prev="$datadir.pg-replication-prev"
moved=no
signalled=no
started=no
${heredoc('"$tmp/standby"', renderStandbyConf(s))}

rollback() {
  if [ "$moved" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m immediate >/dev/null 2>&1
    rm -rf "$datadir"
    mv "$prev" "$datadir"
  elif [ "$signalled" = yes ]; then
    running && as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1
    rm -f "$datadir/standby.signal"
  fi
  restore_files
  if [ "$was_running" = yes ] && ! running; then pg_ctlcluster $cluster start >/dev/null 2>&1; fi
}
# the leader keeps a physical slot for this member, so that it never recycles WAL the member needs
ensure_slot() {
  local out
  out=$(as_postgres "$pgbin/psql" -X -A -t -d "$conn" -c "CREATE_REPLICATION_SLOT $slot PHYSICAL RESERVE_WAL" 2>&1) && return 0
  case "$out" in *"already exists"*) return 0 ;; esac
  reason=$(why "$out")
  return 1
}
# slots this member kept while it was a leader hold WAL for nobody now
drop_own_stale_slots() {
  sql -c "select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like 'pgr\\_%' and not active" >/dev/null 2>&1 || true
}

step="checking the member"
running && was_running=yes
if [ -e "$prev" ]; then
  # left by a host that died mid-rebuild: the data directory it holds is the member's own
  die "$prev exists (an interrupted rebuild); move it back over $datadir or remove it, then run again"
fi
done_token=$(cat "$stamp" 2>/dev/null || true)

step="checking the leader"
read_leader_system || die "cannot reach $leader for replication: $reason"
own_system=$(as_postgres "$pgbin/pg_controldata" -D "$datadir" | awk -F':[[:space:]]*' '$1 == "Database system identifier" { print $2 }')
# a hot standby refuses to run below its leader: hold such settings at the leader's value
rm -f ${shellQuote(OLD_STANDBY_INCLUDE_PATH)}
for entry in ${minimumsList()}; do
  IFS='|' read -r name label fallback <<<"$entry"
  want=$(configured "$name" "$fallback" ${shellQuote(TUNING_PATH)} ${shellQuote(INCLUDE_PATH)})
  have=$(as_postgres "$pgbin/psql" -X -A -t -d "$conn" -c "SHOW $name" 2>/dev/null || true)
  if [ -n "$have" ] && [ "$want" -lt "$have" ] 2>/dev/null; then
    echo "$name = $have # held at the leader's value" >> "$tmp/standby"
    say "holding $name at $have, the leader's (this member alone would run with $want)"
  fi
done

if in_recovery && [ "$done_token" = "$token" ] && [ "$own_system" = "$leader_system" ]; then
  step="following $leader"
  ensure_slot || die "cannot keep slot $slot on $leader: $reason"
  install_file "$tmp/standby" "$include" 644
  if ! running; then
    say "the standby was stopped: starting it (its data is kept)"
    start_server || die "$reason"
  elif [ \${#changed[@]} -gt 0 ]; then
    say "pointing the standby at $leader"
    reload_server
  fi
  step="waiting for the standby to stream from $leader"
  wait_streaming 60 || die "the standby does not stream from $leader"
  drop_own_stale_slots
  committed=yes
  say "standby of $leader: streaming"
  exit 0
fi

if ! in_recovery && [ "$done_token" = "$token" ] && [ "$own_system" = "$leader_system" ]; then
  # a former leader of this cluster (switchover or failover): follow the new one, no copy
  step="rejoining $leader as a standby"
  say "a former leader of this cluster: rejoining $leader as a standby"
  ensure_slot || die "cannot keep slot $slot on $leader: $reason"
  if running; then try pg_ctlcluster $cluster stop -m fast || die "$reason"; fi
  read_leader_system || die "cannot reach $leader for replication: $reason"
  install_file "$tmp/standby" "$include" 644
  touch "$datadir/standby.signal"
  chown postgres:postgres "$datadir/standby.signal"
  signalled=yes
  if can_follow_leader && start_server && wait_streaming 30; then
    drop_own_stale_slots
    committed=yes
    say "standby of $leader: rejoined and streaming"
    exit 0
  fi
  say "it cannot follow $leader (its history has diverged): rebuilding it from $leader"
  as_postgres "$pgbin/pg_ctl" stop -D "$datadir" -m fast >/dev/null 2>&1 || true
  rm -f "$datadir/standby.signal"
  signalled=no
fi

step="checking that the member may be rebuilt"
if [ "$done_token" = "$token" ] && [ "$own_system" != "$leader_system" ] && running; then
  own=$(sql -c "select string_agg(datname, ', ') from pg_database where datname not in ('postgres', 'template0', 'template1')")
  [ -z "$own" ] || die "it is not a standby and holds databases ($own); set its rebuild token in config to replace them with a copy of the leader"
fi

step="stopping the member"
say "rebuilding as a standby of $leader (pg_basebackup)"
if running; then try pg_ctlcluster $cluster stop -m fast || die "$reason"; fi
mv "$datadir" "$prev"
moved=yes
install -d -o postgres -g postgres -m 700 "$datadir"

step="pg_basebackup from $leader"
# a slot left by an earlier attempt holds WAL from its own start: replace it, and reserve WAL
# from now on before the copy starts (pg_basebackup's own -C creates it later, and a checkpoint in
# between, say another standby's copy, can recycle a segment the copy still needs)
as_postgres "$pgbin/psql" -X -A -t -d "$conn" -c "DROP_REPLICATION_SLOT $slot" >/dev/null 2>&1 || true
ensure_slot || die "cannot create slot $slot on $leader: $reason"
if ! as_postgres "$pgbin/pg_basebackup" -d "$conn" -D "$datadir" -X stream -S "$slot" -c fast -P -v 2>&1 |
    tr '\\r' '\\n' | awk '/kB \\(/ { if (++n % 20 != 1) next } { print; fflush() }'; then
  die "pg_basebackup from $leader failed (see above)"
fi
touch "$datadir/standby.signal"
chown postgres:postgres "$datadir/standby.signal"
install_file "$tmp/standby" "$include" 644

step="starting the standby"
start_server || die "$reason"
step="waiting for the new standby to stream from $leader"
wait_streaming 120 || die "the new standby does not stream from $leader"
drop_own_stale_slots
echo "$token" > "$stamp"
committed=yes
# the old copy can be large: remove it in the background, detached from this SSH session
mv "$prev" "$prev.removing.$$"
setsid rm -rf "$prev.removing.$$" </dev/null >/dev/null 2>&1 &
say "standby of $leader: rebuilt and streaming"
`;
}

export interface LeaderScript {
  host: string;
  leaderName: string;
  leaderAddress: string;
  port: number;
  replicationRole: string;
  passfile: string;
}

/** The replication connection to the leader, and its system identifier (one cluster's lineage). */
function leaderConnection(s: LeaderScript): string {
  const conn = `host=${s.leaderAddress} port=${s.port} user=${s.replicationRole} dbname=replication passfile=${s.passfile} replication=true sslmode=prefer connect_timeout=10`;
  return `conn=${shellQuote(conn)}
leader=${shellQuote(`${s.leaderName} (${s.leaderAddress}:${s.port})`)}
# sets leader_system, or reason
read_leader_system() {
  local out
  out=$(as_postgres "$pgbin/psql" -X -A -t -d "$conn" -c IDENTIFY_SYSTEM 2>&1) || { reason=$(why "$out"); return 1; }
  leader_system=$(printf '%s\\n' "$out" | cut -d'|' -f1)
  leader_timeline=$(printf '%s\\n' "$out" | cut -d'|' -f2)
}
# an LSN (X/Y) as a number, to compare two
lsn_number() { local hi=\${1%%/*} lo=\${1#*/}; echo $(( (16#$hi << 32) | 16#$lo )); }
# whether this stopped member can follow the leader without a copy: its last checkpoint is on
# a timeline the leader's history passes through, at or before the point the leader forked off it
# (the check PostgreSQL itself makes when it starts, fatally, as a standby)
can_follow_leader() {
  local control own_tli own_lsn history fork
  control=$(as_postgres "$pgbin/pg_controldata" -D "$datadir") || return 1
  own_tli=$(printf '%s\\n' "$control" | awk -F':[[:space:]]*' '$1 == "Latest checkpoint'"'"'s TimeLineID" { print $2 }')
  own_lsn=$(printf '%s\\n' "$control" | awk -F':[[:space:]]*' '$1 == "Latest checkpoint location" { print $2 }')
  [ -n "$own_tli" ] && [ -n "$own_lsn" ] && [ -n "$leader_timeline" ] || return 1
  [ "$own_tli" = "$leader_timeline" ] && return 0
  [ "$own_tli" -lt "$leader_timeline" ] || return 1
  history=$(as_postgres "$pgbin/psql" -X -A -t -d "$conn" -c "TIMELINE_HISTORY $leader_timeline" 2>/dev/null) || return 1
  # the first line starts with the file's name and psql's column separator
  fork=$(printf '%s\\n' "$history" | sed 's/^[0-9A-F]*\\.history|//' | awk -F'\\t' -v t="$own_tli" '$1 == t { print $2; exit }')
  [ -n "$fork" ] && [ "$(lsn_number "$own_lsn")" -le "$(lsn_number "$fork")" ]
}`;
}

/**
 * On every member but the leader: a member still running as a primary of this cluster (the
 * system identifier the leader showed at plan time) is a former leader: it is stopped with a fast
 * shutdown, which sends every committed transaction to the standbys before it ends, so that the
 * new leader can be promoted without losing one. Anything else is left alone.
 */
export function renderDemoteScript(s: { host: string; leaderName: string; leaderSystemId: string }): string {
  return `${prelude(s.host, `demote if a former leader (the leader is ${s.leaderName})`)}
leader=${shellQuote(s.leaderName)}
leader_system=${shellQuote(s.leaderSystemId)}
rollback() { :; }

step="checking the member"
own_system=$(as_postgres "$pgbin/pg_controldata" -D "$datadir" | awk -F':[[:space:]]*' '$1 == "Database system identifier" { print $2 }')
if ! running || in_recovery || [ -z "$leader_system" ] || [ "$own_system" != "$leader_system" ]; then
  committed=yes
  say "not a running primary of this cluster: nothing to demote"
  exit 0
fi
step="stopping the former leader"
say "the leader is now $leader: stopping this former leader (fast shutdown: its standbys receive every committed transaction first)"
try pg_ctlcluster $cluster stop -m fast || die "$reason"
committed=yes
say "stopped at $(as_postgres "$pgbin/pg_controldata" -D "$datadir" | awk -F':[[:space:]]*' '$1 == "Latest checkpoint location" { print $2 }')"
`;
}

/**
 * On the leader: a running primary stays as it is (a stopped one is started). A standby is
 * promoted once its old leader is gone (stopped by its demote step, or marked down in config)
 * and it has replayed all the WAL it received, then checkpoints so that a former leader can
 * follow the new timeline at once.
 */
export function renderPromoteScript(s: { host: string; downAddresses: string[]; observed?: string }): string {
  const down = s.downAddresses.map((a) => shellQuote(a)).join(" ");
  return `${prelude(s.host, "the leader", s.observed)}
include=${shellQuote(STANDBY_INCLUDE_PATH)}
down_addresses=(${down})
rollback() { :; }

step="checking the member"
if ! running; then
  say "postgresql $cluster is down: starting it"
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
  for a in "\${down_addresses[@]}"; do [ "$sender" = "$a" ] && break 2; done
  sleep 0.2
done
if [ "$status" = streaming ] && ! printf '%s\\n' "\${down_addresses[@]}" | grep -qxF "$sender"; then
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
rm -f "$include"
sql -c "checkpoint"
say "the leader: promoted, on timeline $(sql -c "select timeline_id from pg_control_checkpoint()")"
`;
}
