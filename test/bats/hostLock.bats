#!/usr/bin/env bats
# L8: one run at a time on a host. Every verb holds the host's lock (flock) from its start to its
# end: a second run, or a cancelled one whose script goes on, cannot overwrite the first's .prev
# copies. A run that waits past the bound fails in one line; a run that ends, or is killed, frees
# the lock at once, even when it started a server that lives on.

setup() {
  load helpers
}

@test "a second run waits for the first, and past the bound fails in one line, changing nothing" {
  LOCK_WAIT=5 host_script 'echo held >"$BATS_TEST_TMPDIR/first"; sleep 4; committed=yes' >"$BATS_TEST_TMPDIR/first.sh"
  bash "$BATS_TEST_TMPDIR/first.sh" >/dev/null 2>&1 &
  for _ in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/first" ] && break; sleep 0.1; done
  LOCK_WAIT=1 run bash -c "$(LOCK_WAIT=1 host_script 'echo ran >"$BATS_TEST_TMPDIR/second"; committed=yes')"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "pg-replication on test-host: taking the host's lock failed: another pg-replication run on this host has held $BATS_TEST_TMPDIR/host.lock for more than 1 s"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/second" ]
  wait
}

@test "a run that waits within the bound goes on once the first has ended" {
  host_script 'echo held >"$BATS_TEST_TMPDIR/first"; sleep 1; committed=yes' >"$BATS_TEST_TMPDIR/first.sh"
  bash "$BATS_TEST_TMPDIR/first.sh" >/dev/null 2>&1 &
  for _ in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/first" ] && break; sleep 0.1; done
  run bash -c "$(LOCK_WAIT=10 host_script 'committed=yes; say second')"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "pg-replication on test-host: second" ]
  wait
}

@test "what a run started (a server) does not keep the lock once the run has ended" {
  run bash -c "$(host_script 'setsid sleep 30 </dev/null >/dev/null 2>&1 & echo $! >"$BATS_TEST_TMPDIR/server"; committed=yes')"
  [ "$status" -eq 0 ]
  SECONDS=0
  run bash -c "$(LOCK_WAIT=3 host_script 'committed=yes; say free')"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$SECONDS" -le 2 ]
  kill "$(cat "$BATS_TEST_TMPDIR/server")"
}

@test "a killed run frees the lock" {
  host_script 'sleep 60 & echo $! >"$BATS_TEST_TMPDIR/first"; wait' >"$BATS_TEST_TMPDIR/first.sh"
  bash "$BATS_TEST_TMPDIR/first.sh" >/dev/null 2>&1 &
  first=$!
  for _ in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/first" ] && break; sleep 0.1; done
  kill -9 "$first"
  run bash -c "$(LOCK_WAIT=5 host_script 'committed=yes; say free')"
  echo "$output"
  [ "$status" -eq 0 ]
  kill "$(cat "$BATS_TEST_TMPDIR/first")"
}

@test "a migration's script takes the same lock: it waits for a host step, and past the bound changes nothing" {
  host_script 'echo held >"$BATS_TEST_TMPDIR/first"; sleep 4; committed=yes' >"$BATS_TEST_TMPDIR/first.sh"
  bash "$BATS_TEST_TMPDIR/first.sh" >/dev/null 2>&1 &
  for _ in $(seq 50); do [ -e "$BATS_TEST_TMPDIR/first" ] && break; sleep 0.1; done
  LOCK_WAIT=1 run bash -c "$(LOCK_WAIT=1 migration_script 'echo ran >"$BATS_TEST_TMPDIR/second"')"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == "pg-replication on test-host: taking the host's lock failed: another pg-replication run on this host has held $BATS_TEST_TMPDIR/host.lock for more than 1 s"* ]]
  [ ! -e "$BATS_TEST_TMPDIR/second" ]
  wait
  run bash -c "$(LOCK_WAIT=5 migration_script 'say free')"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "pg-replication migration on test-host: free" ]
}
