#!/usr/bin/env bats
# A host script either finishes or puts back what it changed: the exit trap restores the files
# install_file replaced, whatever line fails after. And a script cut short on its way runs nothing.

setup() {
  load helpers
  # a folder postgres owns, as /etc/postgresql/15/main is
  work=$(postgres_dir)
  printf 'old a\n' >"$work/a.conf"
  printf 'old b\n' >"$work/b.conf"
  chown postgres:postgres "$work/a.conf" "$work/b.conf"
  printf 'new a\n' >"$BATS_TEST_TMPDIR/new-a"
  printf 'new b\n' >"$BATS_TEST_TMPDIR/new-b"
  printf 'new c\n' >"$BATS_TEST_TMPDIR/new-c"
}

teardown() { rm -rf "$work"; }

# a script whose main runs three install_file, then `$1`
script() {
  host_script "install_file $BATS_TEST_TMPDIR/new-a $work/a.conf 644
  install_file $BATS_TEST_TMPDIR/new-b $work/b.conf 640
  install_file $BATS_TEST_TMPDIR/new-c $work/c.conf 644
  step=\"a later step\"
  $1"
}

@test "the exit trap restores every installed file when a later line fails" {
  needs_root
  run bash -c "$(script false)"
  [ "$status" -eq 1 ]
  [[ $output == *"pg-replication on test-host: updated $work/b.conf"* ]]
  [[ $output == *"pg-replication on test-host: a later step failed: exit status 1; the host is as it was before this step"* ]]
  [ "$(cat "$work/a.conf")" = "old a" ]
  [ "$(cat "$work/b.conf")" = "old b" ]
  [ ! -e "$work/c.conf" ]
  [ -z "$(find "$work" -name '*.pg-replication.prev')" ]
}

@test "a failure's reason, when it has one, is the trap's one line" {
  needs_root
  run bash -c "$(script 'die "the server refuses the new configuration"')"
  [ "$status" -eq 1 ]
  [[ $output == *"a later step failed: the server refuses the new configuration; the host is as it was before this step"* ]]
  [ "$(cat "$work/a.conf")" = "old a" ]
}

@test "a committed script keeps its files" {
  needs_root
  run bash -c "$(script 'committed=yes; false')"
  [ "$status" -eq 1 ]
  [ "$(cat "$work/a.conf")" = "new a" ]
  [ "$(stat -c %U:%a "$work/b.conf")" = postgres:640 ]
}

@test "a rendered script cut short at any line runs nothing" {
  file="$REPO/test/unit/render/golden/demote.sh"
  count=$(wc -l <"$file")
  for ((n = 1; n < count; n++)); do
    out=$(head -n "$n" "$file" | bash 2>&1 || true)
    if [[ $out == *pg-replication* ]]; then
      echo "demote.sh cut after line $n ran: $out"
      return 1
    fi
  done
  # the whole script does run (and fails here, where there is no PostgreSQL)
  [[ $(bash <"$file" 2>&1) == *"pg-replication on pg1: "* ]]
}
