#!/usr/bin/env bats
# can_follow_leader: whether a stopped former leader can follow the leader without a copy. The
# leader is on timeline 2, which forked off timeline 1 at 0/3000000.

setup() {
  load helpers
  load_lib
  answer_psql "TIMELINE_HISTORY 2" $'00000002.history|1\t0/3000000\tno recovery target specified\n'
}

# follows TIMELINE CHECKPOINT LEADER_TIMELINE: prints yes or no
follows() {
  controldata_says "$1" "$2"
  leader_timeline=$3
  if can_follow_leader "host=leader"; then echo yes; else echo no; fi
}

@test "on the leader's own timeline: yes" {
  [ "$(follows 2 0/9000000 2)" = yes ]
}

@test "on an older timeline, with its checkpoint before, at or after the fork point: yes, yes, no" {
  [ "$(follows 1 0/2000000 2)" = yes ]
  [ "$(follows 1 0/3000000 2)" = yes ]
  [ "$(follows 1 0/3000028 2)" = no ]
}

@test "on a newer timeline than the leader's: no" {
  [ "$(follows 3 0/2000000 2)" = no ]
}

@test "without the leader's history: no" {
  rm "$FAKE_ANSWERS/psql/TIMELINE_HISTORY 2"
  [ "$(follows 1 0/2000000 2)" = no ]
}

@test "a timeline the leader's history does not pass through: no" {
  answer_psql "TIMELINE_HISTORY 3" $'00000003.history|2\t0/5000000\tno recovery target specified\n'
  [ "$(follows 1 0/2000000 3)" = no ]
}

@test "the leader's timeline unknown: no" {
  [ "$(follows 1 0/2000000 "")" = no ]
}
