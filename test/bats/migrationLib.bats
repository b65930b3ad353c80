#!/usr/bin/env bats
# host/migration/lib.sh's small functions.

setup() {
  # shellcheck source=../../host/migration/lib.sh
  source "$BATS_TEST_DIRNAME/../../host/migration/lib.sh"
}

@test "seconds_since gives the seconds since an EPOCHREALTIME, to a tenth, whatever the decimal mark" {
  [ "$(EPOCHREALTIME=1000.70 seconds_since 998.5)" = 2.2 ]
  started=$EPOCHREALTIME
  sleep 0.2
  [[ "$(seconds_since "$started")" =~ ^0\.[2-9]$ ]]
  [ "$(EPOCHREALTIME=12,5 seconds_since 10,0)" = 2.5 ]
}
