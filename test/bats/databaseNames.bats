#!/usr/bin/env bats
# A database name that looks like connection settings (`=`, a URI) reaches the real psql as a
# name: it never changes where the script connects. The server psql is sent to is a socket folder
# that does not exist, so its error names the folder it tried.

PSQL_BIN=/usr/lib/postgresql/15/bin

setup() {
  load helpers
  [ -x "$PSQL_BIN/psql" ] || { echo "these tests run the real psql of postgresql-15 (the sandbox installs it)"; return 1; }
}

@test "the migration's target_sql connects through its own socket whatever the database is called" {
  host=test-host
  pgbin=$PSQL_BIN
  datadir="$BATS_TEST_TMPDIR/data"
  mkdir -p "$datadir"
  printf '1\n%s\n0\n5432\n%s\n' "$datadir" /nowhere-a >"$datadir/postmaster.pid"
  # shellcheck source=../../host/migration/lib.sh
  source "$REPO/host/migration/lib.sh"
  as_postgres() { "$@"; }
  for db in 'app host=/nowhere-b' 'postgresql:///app?host=/nowhere-b'; do
    run target_sql "$db" -c 'select 1'
    [ "$status" -ne 0 ]
    [[ "$output" == *'"/nowhere-a/.s.PGSQL.5432"'* ]] || { echo "$db: $output"; return 1; }
    [[ "$output" != *nowhere-b* ]]
  done
}
