# shellcheck shell=bash disable=SC2034  # variables are used by the sourcing scripts
# Shared definitions for the sandbox scripts (sourced, not executed).
#
# Processes are NEVER selected by name: the sandbox's postgres and sshd look
# exactly like the machine's own. They are found through PID files in the
# state directory and then checked through /proc (executable, command line,
# working directory, network namespace).

SANDBOX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${PGR_SANDBOX_DIR:-/var/tmp/pg-replication-sandbox}
HOSTS_CONF=$SANDBOX_DIR/hosts.conf
BRIDGE=pgrbr0
CONTROLLER_ADDR=10.77.0.254
PREFIX_LEN=24
SSH_USER=deploy
DEPLOY_HOME=$STATE/deploy-home
SUDOERS_FILE=/etc/sudoers.d/90-pg-replication-sandbox
SSH_CONFIG=$STATE/ssh_config
STATE_MARKER=$STATE/.pg-replication-sandbox
AGENT_SOCK=$STATE/agent.sock
AGENT_PID=$STATE/agent.pid
SSHD=/usr/sbin/sshd

# What each host's mount namespace gets of its own, bind-mounted from a per-host directory
# (start_sshd): "MOUNT-POINT HOST-SUBDIR". A running sshd whose namespace was made with an
# older list is restarted by up.sh: bump MOUNT_LAYOUT whenever this list changes.
MOUNT_LAYOUT=4
HOST_MOUNTS=(
  "/run/postgresql run-postgresql"
  "/etc/postgresql etc-postgresql"
  "/var/lib/postgresql var-lib-postgresql"
  "/var/log/postgresql var-log-postgresql"
  "/etc/pgbackrest etc-pgbackrest"
  "/var/lib/pgbackrest var-lib-pgbackrest"
  "/var/log/pgbackrest var-log-pgbackrest"
  "/var/spool/pgbackrest var-spool-pgbackrest"
  "/tmp tmp"
  "/etc/systemd/system etc-systemd-system"
  "/run/pg-replication run-pg-replication"
)

# Hosts that run a service other than PostgreSQL: no cluster 15/main is made on them.
SERVICE_HOSTS=(s3)

# The S3-compatible server on host s3: versitygw, built once with `go install` and cached
# outside the repo, keyed by version. Its credentials are fixed, published sandbox values
# (like the sandbox passphrase), written to $S3_ENV for whoever configures pgBackRest.
VERSITYGW_VERSION=1.8.0
PGR_CACHE_DIR=${PGR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg-replication}
VERSITYGW_BIN=$PGR_CACHE_DIR/versitygw-v$VERSITYGW_VERSION/versitygw
S3_HOST=s3
S3_ENV=$STATE/s3.env
S3_ACCESS_KEY=PGRSANDBOXS3ACCESS01
S3_SECRET_KEY=pg-replication-sandbox-s3-secret
S3_REGION=us-east-1
S3_BUCKET=pgbackrest

HOST_NAMES=()
declare -A HOST_ADDR=()

die() { echo "error: $*" >&2; exit 1; }
say() { echo "==> $*"; }

require_root() { [[ $(id -u) -eq 0 ]] || die "run as root"; }

# Reads hosts.conf into HOST_NAMES / HOST_ADDR and validates it.
load_hosts() {
  local name addr extra
  [[ -r $HOSTS_CONF ]] || die "cannot read $HOSTS_CONF"
  while read -r name addr extra; do
    [[ -z $name || $name == \#* ]] && continue
    [[ $name =~ ^[a-z][a-z0-9-]{0,10}$ ]] || die "bad host name '$name' (max 11 chars, [a-z0-9-])"
    [[ $addr =~ ^10\.77\.0\.([0-9]{1,3})$ && ${BASH_REMATCH[1]} -ge 1 && ${BASH_REMATCH[1]} -le 253 ]] \
      || die "bad address '$addr' for $name (10.77.0.1-253)"
    [[ -z $extra ]] || die "unexpected text after '$name $addr'"
    [[ -z ${HOST_ADDR[$name]:-} ]] || die "duplicate host $name"
    HOST_NAMES+=("$name")
    HOST_ADDR[$name]=$addr
  done < "$HOSTS_CONF"
  [[ ${#HOST_NAMES[@]} -gt 0 ]] || die "no hosts in $HOSTS_CONF"
}

host_dir() { echo "$STATE/hosts/$1"; }
netns_of() { echo "pgr-$1"; }   # network namespace name
veth_of() { echo "pgr-$1"; }    # root-side veth name (<= 15 chars)
data_dir() { echo "$(host_dir "$1")/var-lib-postgresql/15/main"; }

# True if the host runs PostgreSQL (not one of SERVICE_HOSTS).
is_db_host() {
  local s
  for s in "${SERVICE_HOSTS[@]}"; do [[ $1 != "$s" ]] || return 1; done
}

# "dev:inode" identity of a file, or nothing.
file_id() { stat -L -c %d:%i "$1" 2>/dev/null || true; }
netns_id() { file_id "/run/netns/$(netns_of "$1")"; }
proc_netns() { file_id "/proc/$1/ns/net"; }

# True if the process exists and is not a zombie.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Waits up to $2 seconds for process $1 to go away.
wait_gone() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  ! alive "$1"
}

netns_exists() { ip netns exec "$(netns_of "$1")" true 2>/dev/null; }

# PID of this host's sshd listener, from its PidFile, if that process is
# really /usr/sbin/sshd started with this host's config.
sshd_pid() {
  local h pid cmd
  h=$(host_dir "$1")
  pid=$(head -n1 "$h/sshd.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 0
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$SSHD" ]] || return 0
  # sshd rewrites its title to "sshd: <argv> [listener] ...", so match a substring.
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 0
  [[ $cmd == *"$SSHD -D -f $h/sshd_config "* ]] || return 0
  echo "$pid"
}

# PID of this host's postmaster, from postmaster.pid, if that process is alive
# and its working directory is this host's data directory (the postmaster
# chdirs into its data directory, so this cannot match the machine's own).
postmaster_pid() {
  local dd pid
  dd=$(data_dir "$1")
  pid=$(head -n1 "$dd/postmaster.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 0
  [[ -n $(file_id "$dd") && $(file_id "/proc/$pid/cwd") == "$(file_id "$dd")" ]] || return 0
  echo "$pid"
}

# Stops the host's PostgreSQL from inside its own namespaces; falls back to
# signalling the verified postmaster PID.
stop_postgres() {
  local name=$1 pid ns
  pid=$(postmaster_pid "$name")
  [[ -n $pid ]] || return 0
  echo "  $name: stopping PostgreSQL (postmaster $pid)"
  nsenter --target "$pid" --mount --net -- pg_ctlcluster 15 main stop -m fast || true
  wait_gone "$pid" 10 && return 0
  ns=$(netns_id "$name")
  if [[ -n $ns && $(proc_netns "$pid") != "$ns" ]] \
     || [[ -z $ns && $(proc_netns "$pid") == "$(proc_netns self)" ]]; then
    echo "  $name: postmaster $pid is not in this host's network namespace; not touching it" >&2
    return 1
  fi
  echo "  $name: postmaster $pid still alive, sending SIGQUIT"
  kill -QUIT "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5; }
}

stop_sshd() {
  local name=$1 pid
  pid=$(sshd_pid "$name")
  if [[ -n $pid ]]; then
    echo "  $name: stopping sshd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5; }
  fi
  rm -f "$(host_dir "$name")/sshd.pid"
}

# PID of the S3 server on host $1, from its PID file, if that process is alive, runs the
# versitygw binary and serves this host's backend directory.
versitygw_pid() {
  local h pid cmd
  h=$(host_dir "$1")
  pid=$(head -n1 "$h/versitygw.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 0
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */versitygw ]] || return 0
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 0
  [[ $cmd == *" posix $h/s3-data "* ]] || return 0
  echo "$pid"
}

stop_versitygw() {
  local name=$1 pid
  pid=$(versitygw_pid "$name")
  if [[ -n $pid ]]; then
    echo "  $name: stopping versitygw (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5; }
  fi
  rm -f "$(host_dir "$name")/versitygw.pid"
}

# PIDs (not zombies) whose network namespace is this host's netns.
netns_pids() {
  local ns p
  ns=$(netns_id "$1")
  [[ -n $ns ]] || return 0
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $(proc_netns "$p") == "$ns" ]] && alive "$p" && echo "$p"
  done
  return 0
}
