# shellcheck shell=bash
# What the bats tests share: host/lib.sh loaded as a rendered script's header would load it, with
# pgbin pointing at test/bats/fake-bin, whose programs answer from files under $FAKE_ANSWERS.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# the header's values, and the library
load_lib() {
  export FAKE_ANSWERS="$BATS_TEST_TMPDIR/answers"
  mkdir -p "$FAKE_ANSWERS/psql"
  host=test-host
  pgbin="$REPO/test/bats/fake-bin"
  datadir="$BATS_TEST_TMPDIR/data"
  cluster=(15 main)
  # shellcheck source=../../host/session.sh
  source "$REPO/host/session.sh"
  # shellcheck source=../../host/lib.sh
  source "$REPO/host/lib.sh"
  # the fakes run as whoever runs the tests
  as_postgres() { "$@"; }
}

# answer_psql COMMAND TEXT: what the fake psql prints for `-c COMMAND`
answer_psql() { printf '%s\n' "$2" >"$FAKE_ANSWERS/psql/$1"; }

# controldata TIMELINE CHECKPOINT: the fake pg_controldata's output for a stopped member
controldata_says() {
  cat >"$FAKE_ANSWERS/controldata" <<CONTROL
pg_control version number:            1300
Database system identifier:           7431000000000000001
Database cluster state:               shut down
Latest checkpoint location:           $2
Latest checkpoint's TimeLineID:       $1
max_connections setting:              120
CONTROL
}

# the tests that write as postgres fail, never skip, without root (make test runs as root)
needs_root() { [ "$(id -u)" = 0 ] || { echo "these tests give files to postgres: run as root, as make test does"; return 1; }; }

# postgres_dir: a folder postgres owns, as /etc/postgresql/15/main is, that postgres can reach
# (the test's own temporary folder is root's alone); removed by the test's teardown
postgres_dir() {
  local dir
  dir=$(mktemp -d /tmp/pg-replication-bats.XXXXXX)
  chmod 755 "$dir"
  chown postgres:postgres "$dir"
  echo "$dir"
}

# host_script BODY: a script as the renderer writes one (header, host/lib.sh, a main that begins,
# then runs BODY), its lock in the test's folder and its wait bounded by $LOCK_WAIT (default 5 s)
host_script() { assembled_script lib.sh $'cluster=(15 main)\nrollback() { restore_files; }' "$1"; }

# migration_script BODY: the same with host/migration/lib.sh, as a migration's script is written
migration_script() { assembled_script migration/lib.sh "" "$1"; }

# assembled_script LIBRARY EXTRA BODY: the header, host/session.sh, host/LIBRARY, EXTRA lines, a
# main that begins and runs BODY
assembled_script() {
  cat <<SCRIPT
set -euo pipefail
host=test-host
pgbin=$REPO/test/bats/fake-bin
datadir=$BATS_TEST_TMPDIR/data
lock_file=$BATS_TEST_TMPDIR/host.lock
lock_wait=${LOCK_WAIT:-5}
$(cat "$REPO/host/session.sh")
$(cat "$REPO/host/$1")
$2
main() {
  begin
  step="the step"
  $3
}
main "\$@"
SCRIPT
}
