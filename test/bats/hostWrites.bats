#!/usr/bin/env bats
# H7: root writes nothing through a link the postgres user planted in a folder postgres owns
# (/etc/postgresql/15/main, conf.d): every write there is made as postgres, and a file to replace
# that is a link, or not a regular file, is refused.

setup() {
  load helpers
  needs_root
  work=$(postgres_dir)
  printf 'old a\n' >"$work/a.conf"
  chown postgres:postgres "$work/a.conf"
  printf 'new a\n' >"$BATS_TEST_TMPDIR/new-a"
  # root's own file, outside postgres's folder: what a planted link points at
  victim="$BATS_TEST_TMPDIR/victim"
  printf 'root only\n' >"$victim"
  chmod 600 "$victim"
}

teardown() { rm -rf "$work"; }

victim_untouched() {
  [ "$(cat "$victim")" = "root only" ]
  [ "$(stat -c %U:%G:%a "$victim")" = root:root:600 ]
}

@test "a link planted at the .prev name leads nowhere: the copy is postgres's, the link replaced" {
  ln -s "$victim" "$work/a.conf.pg-replication.prev"
  run bash -c "$(host_script "install_file $BATS_TEST_TMPDIR/new-a $work/a.conf 640; committed=yes")"
  echo "$output"
  [ "$status" -eq 0 ]
  victim_untouched
  [ ! -L "$work/a.conf.pg-replication.prev" ]
  [ "$(cat "$work/a.conf.pg-replication.prev")" = "old a" ]
  [ "$(cat "$work/a.conf")" = "new a" ]
  [ "$(stat -c %U:%G:%a "$work/a.conf")" = postgres:postgres:640 ]
}

@test "a file to replace that is a link is refused in one line, and nothing is written through it" {
  rm "$work/a.conf"
  ln -s "$victim" "$work/a.conf"
  run bash -c "$(host_script "install_file $BATS_TEST_TMPDIR/new-a $work/a.conf 640; committed=yes")"
  echo "$output"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ $output == "pg-replication on test-host: the step failed: $work/a.conf is a link or not a regular file: refusing to write through it"* ]]
  victim_untouched
  [ -L "$work/a.conf" ]
}

@test "a link planted where a new file goes is not followed either" {
  rm "$work/a.conf"
  ln -s "$victim" "$work/a.conf.pg-replication.prev"
  run bash -c "$(host_script "install_file $BATS_TEST_TMPDIR/new-a $work/a.conf 644; false")"
  echo "$output"
  [ "$status" -eq 1 ]
  victim_untouched
  # rolled back: the new file is gone again
  [ ! -e "$work/a.conf" ]
}

@test "the rollback puts the old file back as postgres's" {
  run bash -c "$(host_script "install_file $BATS_TEST_TMPDIR/new-a $work/a.conf 640; false")"
  [ "$status" -eq 1 ]
  [ "$(cat "$work/a.conf")" = "old a" ]
  [ "$(stat -c %U:%G "$work/a.conf")" = postgres:postgres ]
  [ ! -e "$work/a.conf.pg-replication.prev" ]
}
