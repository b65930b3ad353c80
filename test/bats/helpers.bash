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
