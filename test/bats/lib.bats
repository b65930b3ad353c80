#!/usr/bin/env bats
# host/lib.sh's small functions, against the fake PostgreSQL programs of test/bats/fake-bin.

setup() {
  load helpers
  load_lib
}

@test "lsn_number orders LSNs as PostgreSQL does, across the high word" {
  [ "$(lsn_number 0/3000000)" = 50331648 ]
  [ "$(lsn_number 1/0)" = 4294967296 ]
  [ "$(lsn_number 16/B374D848)" = $((0x16B374D848)) ]
  [ "$(lsn_number 0/FFFFFFFF)" -lt "$(lsn_number 1/0)" ]
}

@test "why picks the first error line of an output, else its last line" {
  out=$'connecting\npsql: error: connection to server at "10.0.0.1" failed: FATAL:  password authentication failed\nsecond: ERROR: later'
  [ "$(why "$out")" = 'psql: error: connection to server at "10.0.0.1" failed: FATAL:  password authentication failed' ]
  [ "$(why $'starting\nstopped at 0/3000000\n\n')" = "stopped at 0/3000000" ]
  [ "$(why "")" = "" ]
}

@test "configured reads the last value the files give a setting, else the fallback" {
  printf 'max_connections = 200\nwork_mem = 4MB\n' >"$BATS_TEST_TMPDIR/a.conf"
  printf 'max_connections = 300 # a comment\n' >"$BATS_TEST_TMPDIR/b.conf"
  [ "$(configured max_connections 100 "$BATS_TEST_TMPDIR/a.conf" "$BATS_TEST_TMPDIR/b.conf")" = 300 ]
  [ "$(configured max_connections 100 "$BATS_TEST_TMPDIR/b.conf" "$BATS_TEST_TMPDIR/a.conf")" = 200 ]
  [ "$(configured max_wal_senders 10 "$BATS_TEST_TMPDIR/a.conf")" = 10 ]
  [ "$(configured max_connections 100 "$BATS_TEST_TMPDIR/absent.conf")" = 100 ]
}

@test "hold_at_leader holds only the settings the files put below the leader's value" {
  minimums=('max_connections|max_connections setting|100' 'max_wal_senders|max_wal_senders setting|10')
  printf 'max_connections = 100\nmax_wal_senders = 10\n' >"$BATS_TEST_TMPDIR/a.conf"
  leader_value() { case $1 in max_connections) echo 120 ;; max_wal_senders) echo 5 ;; esac; }
  held() { echo "held $1 at $2, wanted $3"; }
  [ "$(hold_at_leader "$BATS_TEST_TMPDIR/a.conf")" = "held max_connections at 120, wanted 100" ]
}

@test "read_leader_system reads the leader's identifier and timeline, or says why not" {
  answer_psql IDENTIFY_SYSTEM '7431000000000000001|3|0/5000060|'
  read_leader_system "host=leader"
  [ "$leader_system" = 7431000000000000001 ]
  [ "$leader_timeline" = 3 ]
  rm "$FAKE_ANSWERS/psql/IDENTIFY_SYSTEM"
  if read_leader_system "host=leader"; then return 1; fi
  [[ $reason == *"FATAL:  no answer for: IDENTIFY_SYSTEM" ]]
}

@test "holds_data tells a data directory with data of its own, postgres's tables included, from a fresh one" {
  datadir="$BATS_TEST_TMPDIR/data"
  mkdir -p "$datadir/base/1" "$datadir/base/4" "$datadir/base/5"
  touch "$datadir/base/1/1259" "$datadir/base/5/2619" "$datadir/base/5/PG_VERSION"
  [ -z "$(holds_data)" ]
  touch "$datadir/base/5/16390"
  [ "$(holds_data)" = "0 databases and 1 relation files of its own" ]
  rm "$datadir/base/5/16390"
  mkdir "$datadir/base/16384"
  [ "$(holds_data)" = "1 databases and 0 relation files of its own" ]
}

@test "start_server returns once the server takes connections, while pg_ctlcluster still probes it" {
  # Debian's pg_ctlcluster goes on for two seconds after the server runs (three probes, 0.5 s apart)
  pg_ctlcluster() { sleep 3; touch "$BATS_TEST_TMPDIR/probed"; }
  answer_psql "select 1" 1
  tmp=$BATS_TEST_TMPDIR
  start_server
  [ ! -e "$BATS_TEST_TMPDIR/probed" ]
}

@test "start_server waits for a start that fails, and says why" {
  pg_ctlcluster() {
    echo "The PostgreSQL server failed to start. Please check the log output:"
    echo '2026-12-03 14:00:00 UTC [1] FATAL:  invalid value for parameter "work_mem": "64 megabytes"'
    return 1
  }
  tmp=$BATS_TEST_TMPDIR
  if start_server; then false; fi
  [ "$reason" = '2026-12-03 14:00:00 UTC [1] FATAL:  invalid value for parameter "work_mem": "64 megabytes"' ]
}

@test "retry_on_backrest_lock runs a pgbackrest command again while another holds the stanza's lock" {
  attempts="$BATS_TEST_TMPDIR/attempts"
  flaky() {
    echo x >>"$attempts"
    if [ "$(wc -l <"$attempts")" -lt 3 ]; then
      echo "ERROR: [050]: unable to acquire lock on file '/tmp/pgbackrest/main-archive.lock': Resource temporarily unavailable"
      return 50
    fi
    echo "stanza main: created"
  }
  [ "$(retry_on_backrest_lock flaky)" = "stanza main: created" ]
  broken() { echo "ERROR: [055]: unable to load info file"; return 55; }
  rc=0
  out=$(retry_on_backrest_lock broken) || rc=$?
  [ "$rc" -eq 55 ]
  [ "$out" = "ERROR: [055]: unable to load info file" ]
}
