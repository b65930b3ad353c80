#!/bin/bash
# Brings the multi-host sandbox up (idempotent; repairs after a crash).
# Each host = one network namespace + one private mount namespace running sshd,
# with PostgreSQL 15 cluster "main" created over ssh like on a real host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
load_hosts
SECONDS=0

# Writes stdin to $1 (mode $2) only if the content differs; returns 0 if changed.
write_if_changed() {
  local file=$1 mode=$2 tmp rc=1
  tmp=$(mktemp)
  cat > "$tmp"
  if ! cmp -s "$tmp" "$file"; then
    install -m "$mode" "$tmp" "$file"
    echo "  wrote $file"
    rc=0
  fi
  rm -f "$tmp"
  return "$rc"
}

main_cluster_online() {
  command -v pg_lsclusters > /dev/null || return 1
  pg_lsclusters -h 15 main 2> /dev/null | awk '$4 ~ /^online/ { found = 1 } END { exit !found }'
}

install_packages() {
  local pkg missing=() main_before=down
  for pkg in postgresql-15 openssh-server sudo iproute2 util-linux pgbackrest postgresql-15-dirtyread curl; do
    dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing ${missing[*]}"
  main_cluster_online && main_before=online
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  if [[ $main_before == down ]] && main_cluster_online; then
    echo "  the install started the machine's own cluster 15/main; stopping it again"
    pg_ctlcluster 15 main stop
  fi
}

setup_state() {
  local name h addr d
  install -d -m 755 "$STATE" "$STATE/hosts"
  [[ -e $STATE_MARKER ]] || touch "$STATE_MARKER"
  [[ -f $STATE/id_ed25519 ]] || {
    echo "  generating client key $STATE/id_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C pg-replication-sandbox -f "$STATE/id_ed25519"
  }
  # the preview identity's key: a stack with ssh.preview installs it behind a forced command
  [[ -f $STATE/preview_ed25519 ]] || {
    echo "  generating preview key $STATE/preview_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C pg-replication-sandbox-preview -f "$STATE/preview_ed25519"
  }
  # sandbox-staging's key to sandbox-production's repository (backup.readers, refresh.keyPath)
  [[ -f $STATE/refresh_ed25519 ]] || {
    echo "  generating refresh key $STATE/refresh_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C pg-replication-sandbox-refresh -f "$STATE/refresh_ed25519"
  }
  for name in "${HOST_NAMES[@]}"; do
    h=$(host_dir "$name")
    install -d -m 755 "$h"
    install -d -o postgres -g postgres -m 2775 "$h/run-postgresql"
    install -d -o postgres -g postgres -m 755 "$h/etc-postgresql" "$h/var-lib-postgresql"
    install -d -o root -g postgres -m 1775 "$h/var-log-postgresql"
    # pgBackRest's paths, owned as Debian's package makes them, and a /tmp of the host's own
    install -d -o postgres -g postgres -m 750 "$h/etc-pgbackrest" "$h/var-lib-pgbackrest" \
      "$h/var-log-pgbackrest" "$h/var-spool-pgbackrest"
    install -d -m 1777 "$h/tmp"
    # the host's own systemd units (a repository host's backup timers; no systemd runs here)
    install -d -m 755 "$h/etc-systemd-system"
    # the host's own lock of pg-replication's steps (host/lib.sh lock_host)
    install -d -m 700 "$h/run-pg-replication"
    [[ -f $h/ssh_host_ed25519_key ]] || {
      echo "  generating host key for $name"
      ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$h/ssh_host_ed25519_key"
    }
  done

  if [[ -n ${HOST_ADDR[$S3_HOST]:-} ]]; then
    install -d -m 700 "$(host_dir "$S3_HOST")/s3-data"
    cat << EOF | write_if_changed "$S3_ENV" 600 || true
# the sandbox's S3 server (versitygw on host $S3_HOST, HTTPS with the sandbox CA's certificate)
S3_ACCESS_KEY=$S3_ACCESS_KEY
S3_SECRET_KEY=$S3_SECRET_KEY
S3_ENDPOINT=${HOST_ADDR[$S3_HOST]}
S3_REGION=$S3_REGION
S3_BUCKET=$S3_BUCKET
S3_URI_STYLE=path
S3_CA_FILE=$STATE/tls/ca.crt
EOF
  fi

  for name in "${HOST_NAMES[@]}"; do
    echo "${HOST_ADDR[$name]} $(cut -d' ' -f1,2 "$(host_dir "$name")/ssh_host_ed25519_key.pub")"
  done | write_if_changed "$STATE/known_hosts" 644 || true

  for name in "${HOST_NAMES[@]}"; do
    cat << EOF
Host $name
  HostName ${HOST_ADDR[$name]}
  Port 22
  User $SSH_USER
  IdentityFile $STATE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 5

EOF
  done | write_if_changed "$SSH_CONFIG" 644 || true

  {
    echo '{'
    echo "  \"privateKeyPath\": \"$STATE/id_ed25519\","
    echo "  \"knownHostsPath\": \"$STATE/known_hosts\","
    echo "  \"sshConfigPath\": \"$SSH_CONFIG\","
    echo "  \"controllerAddress\": \"$CONTROLLER_ADDR\","
    echo '  "hosts": ['
    d=''
    for name in "${HOST_NAMES[@]}"; do
      printf '%s    {"name": "%s", "address": "%s", "port": 22, "user": "%s", "hostKey": "%s"}' \
        "$d" "$name" "${HOST_ADDR[$name]}" "$SSH_USER" \
        "$(cut -d' ' -f1,2 "$(host_dir "$name")/ssh_host_ed25519_key.pub")"
      d=$',\n'
    done
    printf '\n  ]\n}\n'
  } | write_if_changed "$STATE/hosts.json" 644 || true

  for name in "${HOST_NAMES[@]}"; do
    h=$(host_dir "$name")
    addr=${HOST_ADDR[$name]}
    if cat << EOF | write_if_changed "$h/sshd_config" 644; then
# sshd for sandbox host $name (generated by up.sh)
Port 22
ListenAddress $addr
HostKey $h/ssh_host_ed25519_key
PidFile $h/sshd.pid
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
# a real Debian host gets its locale from /etc/default/locale via PAM
SetEnv LANG=C.UTF-8
PrintMotd no
X11Forwarding no
MaxStartups 100
MaxSessions 50
Subsystem sftp internal-sftp
EOF
      touch "$h/.sshd_config_changed"
    fi
  done
}

setup_user() {
  local home_now
  if ! getent passwd "$SSH_USER" > /dev/null; then
    say "creating user $SSH_USER"
    useradd --system --user-group --shell /bin/bash --home-dir "$DEPLOY_HOME" --no-create-home -p '*' "$SSH_USER"
  else
    home_now=$(getent passwd "$SSH_USER" | cut -d: -f6)
    [[ $home_now == "$DEPLOY_HOME" ]] || usermod --home "$DEPLOY_HOME" "$SSH_USER"
    [[ $(getent passwd "$SSH_USER" | cut -d: -f7) == /bin/bash ]] || usermod --shell /bin/bash "$SSH_USER"
    # UsePAM no: sshd refuses locked accounts ("!" in shadow); "*" = no password, not locked
    [[ $(getent shadow "$SSH_USER" | cut -d: -f2) == '*' ]] || usermod -p '*' "$SSH_USER"
  fi
  # pgBackRest logs in as postgres between hosts. Debian's sshd (UsePAM yes) takes a key for
  # the locked postgres account; the sandbox's (UsePAM no) refuses locked accounts: "*" instead
  [[ $(getent shadow postgres | cut -d: -f2) == '*' ]] || usermod -p '*' postgres
  # sshd StrictModes: home and .ssh must not be group/world-writable
  install -d -o "$SSH_USER" -g "$SSH_USER" -m 755 "$DEPLOY_HOME"
  install -d -o "$SSH_USER" -g "$SSH_USER" -m 700 "$DEPLOY_HOME/.ssh"
  if write_if_changed "$DEPLOY_HOME/.ssh/authorized_keys" 600 < "$STATE/id_ed25519.pub"; then
    chown "$SSH_USER:$SSH_USER" "$DEPLOY_HOME/.ssh/authorized_keys"
  fi

  local tmp
  tmp=$(mktemp)
  echo "$SSH_USER ALL=(ALL) NOPASSWD:ALL" > "$tmp"
  if ! cmp -s "$tmp" "$SUDOERS_FILE"; then
    visudo -cqf "$tmp" || die "sudoers snippet does not validate"
    install -o root -g root -m 440 "$tmp" "$SUDOERS_FILE"
    echo "  wrote $SUDOERS_FILE"
  fi
  rm -f "$tmp"
}

# A certificate authority of the sandbox's own, and a server certificate for each host (its
# address and name), in place of Debian's snakeoil pair inside the host's mount namespace: every
# cluster a host creates serves it, as a host whose operators installed a real certificate would.
setup_tls() {
  local name h addr
  install -d -m 755 "$STATE/tls"
  if [[ ! -f $STATE/tls/ca.crt ]]; then
    echo "  generating the sandbox CA $STATE/tls/ca.crt"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/CN=pg-replication sandbox CA" -keyout "$STATE/tls/ca.key" -out "$STATE/tls/ca.crt" 2> /dev/null
    chmod 600 "$STATE/tls/ca.key"
  fi
  # the admin role's client certificate (CN = the role), the deploy identity's second factor on
  # the sandbox stacks: its key stays on this machine, never in a stack
  if [[ ! -f $STATE/tls/admin.crt ]]; then
    echo "  generating the admin's client certificate $STATE/tls/admin.crt"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=pgr_admin" \
      -keyout "$STATE/tls/admin.key" -out "$STATE/tls/admin.csr" 2> /dev/null
    chmod 600 "$STATE/tls/admin.key"
    openssl x509 -req -in "$STATE/tls/admin.csr" -CA "$STATE/tls/ca.crt" -CAkey "$STATE/tls/ca.key" -CAcreateserial \
      -days 3650 -extfile <(printf 'extendedKeyUsage = clientAuth\n') -out "$STATE/tls/admin.crt" 2> /dev/null
    rm -f "$STATE/tls/admin.csr"
  fi
  for name in "${HOST_NAMES[@]}"; do
    h=$(host_dir "$name")
    addr=${HOST_ADDR[$name]}
    # The address is also a DNS name: pgBackRest 2.45 matches a host only against the DNS names
    # (and the CN), never an IP entry. A certificate made before that is made again.
    openssl x509 -in "$h/tls/server.crt" -noout -ext subjectAltName 2> /dev/null | grep -qwF "DNS:$addr" && continue
    echo "  $name: certificate for IP:$addr, DNS:$name, DNS:$addr"
    install -d -m 755 "$h/tls"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
      -keyout "$h/tls/server.key.new" -out "$h/tls/server.csr" 2> /dev/null
    openssl x509 -req -in "$h/tls/server.csr" -CA "$STATE/tls/ca.crt" -CAkey "$STATE/tls/ca.key" -CAcreateserial \
      -days 3650 -extfile <(printf 'subjectAltName = IP:%s, DNS:%s, DNS:%s\n' "$addr" "$name" "$addr") \
      -out "$h/tls/server.crt.new" 2> /dev/null
    rm -f "$h/tls/server.csr"
    # as Debian's snakeoil key: the postgres user reads it through the ssl-cert group
    chown root:ssl-cert "$h/tls/server.key.new"
    chmod 640 "$h/tls/server.key.new"
    # new files (new inodes): mount_tls sees the change, binds them and reloads the server
    mv "$h/tls/server.key.new" "$h/tls/server.key"
    mv "$h/tls/server.crt.new" "$h/tls/server.crt"
    [[ $name != "$S3_HOST" ]] || touch "$h/.tls_changed"
  done
}

# The host's certificate over the snakeoil pair, inside its mount namespace (PID: its sshd).
mount_tls() {
  local name=$1 pid=$2 h
  h=$(host_dir "$name")
  if ! nsenter --target "$pid" --mount -- cmp -s "$h/tls/server.crt" /etc/ssl/certs/ssl-cert-snakeoil.pem; then
    echo "  $name: serving the sandbox CA's certificate"
    # A file cannot be mounted over a bind mount whose source was replaced (ENOENT): earlier
    # binds are undone first (umount fails, harmlessly, on the machine's own file).
    # shellcheck disable=SC2016  # $1 expands in the inner sh
    nsenter --target "$pid" --mount -- sh -c 'for f in /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/ssl/private/ssl-cert-snakeoil.key; do
        while umount "$f" 2>/dev/null; do :; done
      done
      mount --bind "$1/tls/server.crt" /etc/ssl/certs/ssl-cert-snakeoil.pem &&
      mount --bind "$1/tls/server.key" /etc/ssl/private/ssl-cert-snakeoil.key' sh "$h"
    # a running server reads the new pair on a reload
    nsenter --target "$pid" --mount --net -- sh -c 'pg_lsclusters -h 15 main 2>/dev/null | grep -q online && pg_ctlcluster 15 main reload' || true
  fi
}

# An SSH agent holding the deploy key, as a deploy job's runner has one: stacks without
# ssh.privateKeyPath (sandbox-staging, sandbox-production) log in through it.
setup_agent() {
  local pid
  pid=$(cat "$AGENT_PID" 2> /dev/null || true)
  if [[ -n $pid && -S $AGENT_SOCK ]] && kill -0 "$pid" 2> /dev/null; then return 0; fi
  rm -f "$AGENT_SOCK"
  say "starting the deploy key's SSH agent at $AGENT_SOCK"
  ssh-agent -a "$AGENT_SOCK" -s | sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' > "$AGENT_PID"
  SSH_AUTH_SOCK=$AGENT_SOCK ssh-add -q "$STATE/id_ed25519"
}

setup_network() {
  local name ns veth
  if ! ip link show "$BRIDGE" &> /dev/null; then
    say "creating bridge $BRIDGE"
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$CONTROLLER_ADDR/$PREFIX_LEN" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for name in "${HOST_NAMES[@]}"; do
    ns=$(netns_of "$name")
    veth=$(veth_of "$name")
    if [[ -e /run/netns/$ns ]] && ! netns_exists "$name"; then
      echo "  $name: removing half-created netns $ns"
      ip netns del "$ns" || rm -f "/run/netns/$ns"
    fi
    if ! netns_exists "$name"; then
      echo "  $name: creating netns $ns"
      ip netns add "$ns"
    fi
    if ! ip link show "$veth" &> /dev/null || ! ip -n "$ns" link show eth0 &> /dev/null; then
      ip link del "$veth" 2> /dev/null || true
      echo "  $name: creating veth $veth <-> $ns:eth0"
      ip link add "$veth" type veth peer name eth0 netns "$ns"
    fi
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr replace "${HOST_ADDR[$name]}/$PREFIX_LEN" dev eth0
    ip -n "$ns" link set eth0 up
  done
}

start_sshd() {
  local name=$1 h pid ns i m mounts=()
  h=$(host_dir "$name")
  ns=$(netns_of "$name")
  for m in "${HOST_MOUNTS[@]}"; do mounts+=("${m%% *}" "${m#* }"); done
  rm -f "$h/sshd.pid" "$h/.sshd_config_changed" "$h/mount-layout"
  echo "  $name: starting sshd in $ns"
  # ip netns exec and unshare both exec, and sh execs sshd: the PID stays the same.
  # The sh gets the host directory, sshd, then "MOUNT-POINT HOST-SUBDIR" pairs (HOST_MOUNTS).
  # shellcheck disable=SC2016  # $1.. expand in the inner sh
  setsid ip netns exec "$ns" unshare --mount --propagation private sh -c '
    h=$1 sshd=$2
    shift 2
    while [ $# -gt 0 ]; do
      mount --bind "$h/$2" "$1" || exit 1
      shift 2
    done
    exec "$sshd" -D -f "$h/sshd_config" -E "$h/sshd.log"' sh "$h" "$SSHD" "${mounts[@]}" \
    < /dev/null >> "$h/sshd.start.log" 2>&1 &
  for ((i = 0; i < 50; i++)); do   # sshd writes its PidFile once it listens
    pid=$(sshd_pid "$name")
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || die "$name: sshd did not start; see $h/sshd.log and $h/sshd.start.log"
  [[ $(proc_netns "$pid") == "$(netns_id "$name")" ]] || die "$name: sshd $pid is not in $ns"
  [[ $pid == "$!" ]] || echo "  $name: note: sshd pid $pid differs from launcher pid $!"
  echo "$MOUNT_LAYOUT" > "$h/mount-layout"
  echo "  $name: sshd pid $pid"
}

setup_hosts() {
  local name h pid d i m layout
  install -d -m 755 /run/sshd   # privilege separation directory (no systemd here)
  # pgBackRest's Debian package has no /etc/pgbackrest (its config is /etc/pgbackrest.conf):
  # the mount point is made here, and removed by down.sh --purge
  # the mount point of each host's own /run/pg-replication (made again after a reboot: /run is a tmpfs)
  install -d -m 700 /run/pg-replication
  if [[ ! -d /etc/pgbackrest ]]; then
    install -d -m 755 /etc/pgbackrest
    touch "$STATE/made-etc-pgbackrest"
  fi
  for m in "${HOST_MOUNTS[@]}"; do
    d=${m%% *}
    [[ -d $d ]] || die "mount point $d missing (are postgresql-15 and pgbackrest installed?)"
  done
  for name in "${HOST_NAMES[@]}"; do
    h=$(host_dir "$name")
    # a host whose namespace was made with another mount list is restarted, as a stale one is
    layout=$(cat "$h/mount-layout" 2> /dev/null || echo 1)
    if [[ $layout != "$MOUNT_LAYOUT" && -n "$(sshd_pid "$name")$(postmaster_pid "$name")" ]]; then
      echo "  $name: sshd started with mount layout $layout (now $MOUNT_LAYOUT); restarting the host"
      stop_postgres "$name"
      stop_versitygw "$name"
      stop_sshd "$name"
    fi
    pid=$(sshd_pid "$name")
    if [[ -n $pid && $(proc_netns "$pid") != "$(netns_id "$name")" ]]; then
      echo "  $name: sshd $pid runs in a stale network namespace; restarting the host"
      stop_postgres "$name"
      stop_versitygw "$name"
      stop_sshd "$name"
      pid=''
    fi
    pid=$(postmaster_pid "$name")
    if [[ -n $pid && $(proc_netns "$pid") != "$(netns_id "$name")" ]]; then
      echo "  $name: postmaster $pid runs in a stale network namespace; stopping it"
      stop_postgres "$name"
    fi
    pid=$(sshd_pid "$name")
    if [[ -z $pid ]]; then
      start_sshd "$name"
    elif [[ -f $h/.sshd_config_changed ]]; then
      "$SSHD" -t -f "$h/sshd_config" || die "$name: invalid sshd_config"
      echo "  $name: sshd_config changed, reloading sshd $pid"
      rm -f "$h/.sshd_config_changed"
      kill -HUP "$pid"
    fi
    # a reloaded sshd writes its PidFile again once it listens
    for ((i = 0; i < 50; i++)); do
      pid=$(sshd_pid "$name")
      [[ -n $pid ]] && break
      sleep 0.1
    done
    mount_tls "$name" "$pid"
  done
}

wait_ssh() {
  local name i
  for name in "${HOST_NAMES[@]}"; do
    for ((i = 0; ; i++)); do
      ssh -F "$SSH_CONFIG" "$name" true 2> /dev/null && break
      ((i < 50)) || die "$name: ssh login does not work; see $(host_dir "$name")/sshd.log"
      sleep 0.2
    done
  done
}

# Brings up 15/main on one host over ssh, like an admin would.
setup_postgres_host() {
  local name=$1 status
  # no such cluster: pg_lsclusters fails and prints nothing
  status=$(ssh -F "$SSH_CONFIG" "$name" pg_lsclusters -h 15 main 2> /dev/null | awk '{ print $4 }') || true
  case $status in
    '')
      echo "  $name: creating cluster 15/main (pg_createcluster 15 main --start)"
      ssh -F "$SSH_CONFIG" "$name" sudo pg_createcluster 15 main --start
      ;;
    online*) ;;
    *)
      echo "  $name: starting cluster 15/main (was $status)"
      ssh -F "$SSH_CONFIG" "$name" sudo pg_ctlcluster 15 main start
      ;;
  esac
}

# All hosts in parallel (pg_createcluster + start takes ~3.5 s per host).
setup_postgres() {
  local name log rc=0
  declare -A job=()
  for name in "${HOST_NAMES[@]}"; do
    is_db_host "$name" || continue
    setup_postgres_host "$name" > "$(host_dir "$name")/up-postgres.log" 2>&1 &
    job[$name]=$!
  done
  for name in "${HOST_NAMES[@]}"; do
    is_db_host "$name" || continue
    log=$(host_dir "$name")/up-postgres.log
    if wait "${job[$name]}"; then
      head -n1 "$log"   # only the progress line; initdb's chatter stays in the log
    else
      rc=1
      sed "s/^/    $name: /" "$log"
    fi
  done
  [[ $rc -eq 0 ]] || die "PostgreSQL setup failed"
}

# versitygw from its Go module, cached outside the repo by version: a cached binary is reused
# without the network.
build_versitygw() {
  local out=$VERSITYGW_BIN started=$SECONDS
  if [[ -x $out ]]; then
    echo "  versitygw $VERSITYGW_VERSION: cached at $out"
    return 0
  fi
  export PATH=$PATH:/usr/local/go/bin
  command -v go > /dev/null || die "versitygw is not cached at $out and there is no go to build it"
  say "building versitygw $VERSITYGW_VERSION (go install github.com/versity/versitygw/cmd/versitygw@v$VERSITYGW_VERSION)"
  rm -rf "$out.partial"
  mkdir -p "$out.partial"
  GOBIN=$out.partial GOTOOLCHAIN=local GOFLAGS=-mod=mod go install -trimpath \
    -ldflags "-s -w -X main.Version=v$VERSITYGW_VERSION" \
    "github.com/versity/versitygw/cmd/versitygw@v$VERSITYGW_VERSION" || die "versitygw build failed"
  mv "$out.partial/versitygw" "$out"
  rmdir "$out.partial"
  echo "  built $out in $((SECONDS - started)) s"
}

s3_url() { echo "https://${HOST_ADDR[$S3_HOST]}$1"; }

# curl to the S3 server, signed with the sandbox's key (given on stdin, not on the command line).
# versitygw refuses a request without x-amz-content-sha256, which curl 7.88 does not send itself.
s3_curl() {
  printf 'user = "%s:%s"\n' "$S3_ACCESS_KEY" "$S3_SECRET_KEY" |
    curl -K - --silent --show-error --cacert "$STATE/tls/ca.crt" --aws-sigv4 "aws:amz:$S3_REGION:s3" \
      -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

# versitygw on host s3 (its network and mount namespaces: those of its sshd), HTTPS on :443
# with the host's certificate, the posix backend in the host's s3-data, the bucket made once.
setup_s3() {
  local name=$S3_HOST h addr sshd pid i code
  [[ -n ${HOST_ADDR[$name]:-} ]] || return 0
  h=$(host_dir "$name")
  addr=${HOST_ADDR[$name]}
  sshd=$(sshd_pid "$name")
  [[ -n $sshd ]] || die "$name: no sshd"
  pid=$(versitygw_pid "$name")
  if [[ -n $pid && -f $h/.tls_changed ]]; then
    echo "  $name: new certificate; restarting versitygw $pid"
    stop_versitygw "$name"
    pid=''
  fi
  rm -f "$h/.tls_changed"
  if [[ -n $pid ]] && [[ $(proc_netns "$pid") != "$(proc_netns "$sshd")" ||
        $(file_id "/proc/$pid/ns/mnt") != "$(file_id "/proc/$sshd/ns/mnt")" ]]; then
    echo "  $name: versitygw $pid runs outside the host's namespaces; restarting it"
    stop_versitygw "$name"
    pid=''
  fi
  if [[ -z $pid ]]; then
    rm -f "$h/versitygw.pid"
    echo "  $name: starting versitygw on $addr:443"
    # nsenter and sh exec: the PID sh writes is versitygw's. The keys go in its environment.
    # shellcheck disable=SC2016  # $1.. expand in the inner sh
    ROOT_ACCESS_KEY_ID=$S3_ACCESS_KEY ROOT_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
      setsid nsenter --target "$sshd" --mount --net -- sh -c 'echo $$ > "$1/versitygw.pid"
        exec "$2" --port "$3:443" --cert "$1/tls/server.crt" --key "$1/tls/server.key" \
          --region "$4" --health /health --quiet posix "$1/s3-data"' \
      sh "$h" "$VERSITYGW_BIN" "$addr" "$S3_REGION" < /dev/null >> "$h/versitygw.log" 2>&1 &
    for ((i = 0; i < 100; i++)); do
      pid=$(versitygw_pid "$name")
      [[ -n $pid ]] && curl -sf --cacert "$STATE/tls/ca.crt" -o /dev/null "$(s3_url /health)" && break
      sleep 0.1
    done
    [[ -n $pid ]] || die "$name: versitygw did not start; see $h/versitygw.log"
    curl -sf --cacert "$STATE/tls/ca.crt" -o /dev/null "$(s3_url /health)" \
      || die "$name: versitygw $pid does not answer on $(s3_url /health); see $h/versitygw.log"
    echo "  $name: versitygw pid $pid"
  fi
  code=$(s3_curl -o /dev/null -w '%{http_code}' --head "$(s3_url "/$S3_BUCKET")") || true
  case $code in
    200) ;;
    404)
      echo "  $name: creating bucket $S3_BUCKET"
      code=$(s3_curl -o "$h/s3-create-bucket.out" -w '%{http_code}' -X PUT "$(s3_url "/$S3_BUCKET")") || true
      [[ $code == 200 ]] || die "$name: creating bucket $S3_BUCKET: HTTP $code $(cat "$h/s3-create-bucket.out")"
      ;;
    *) die "$name: bucket $S3_BUCKET: HTTP ${code:-?} (see $h/versitygw.log)" ;;
  esac
}

install_packages
if [[ -n ${HOST_ADDR[$S3_HOST]:-} ]]; then build_versitygw; fi
say "state directory $STATE"
setup_state
setup_tls
setup_user
setup_agent
say "network"
setup_network
say "sshd per host"
setup_hosts
wait_ssh
if [[ -n ${HOST_ADDR[$S3_HOST]:-} ]]; then
  say "S3 server on $S3_HOST"
  setup_s3
fi
say "PostgreSQL per host"
setup_postgres
say "up in ${SECONDS}s"
"$SANDBOX_DIR/status.sh"
