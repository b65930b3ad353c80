#!/bin/bash
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "${BASH_SOURCE[0]%/*}/lib.sh"
# Subscription: creates it, or alters it in place when it exists (connection, publication,
# enabled, and refreshed: a table the publication gained is subscribed and copied): it is never
# dropped and re-created, which would copy every table again. A new subscription over tables that
# already hold rows is refused; into tables without indexes (the schema copy's pre-data) the rows
# come first, at a slot's snapshot, then the indexes (copy_at_snapshot). Waits (bounded) until
# every table has its initial copy, printing the progress. Names and the connection reach the SQL as psql
# variables (:"name" an identifier, :'value' a literal), quoted by psql itself.

# tmp: a directory of postgres's alone, for the lists the sides exchange and the schema they copy
make_tmp() {
  [ -z "${tmp:-}" ] || return 0
  tmp=$(mktemp -d)
  chown postgres:postgres "$tmp"
  chmod 700 "$tmp"
}

# copy_missing_tables [SNAPSHOT]: the tables the source has and the target lacks, created here
# from the source's schema in one transaction. Without SNAPSHOT: the publication's tables, whole
# (one published since the schema copy). At SNAPSHOT, before a copy at it: every table and view,
# pre-data only (without their indexes and constraints, which come after the rows).
copy_missing_tables() {
  : "${src:?}" "${publication:?}"
  local snapshot=${1:-} scope=published out lacking t
  [ -z "$snapshot" ] || scope=all
  make_tmp
  step="reading the source's tables"
  # one JSON document (control characters escaped) in a file, which the target reads in one query
  out=$(source_sql -v pub="$publication" -v scope="$scope" -o "$tmp/listed.json" <<'SQL' 2>&1
select coalesce(json_agg(t order by t), '[]') from (
  select format('%I.%I', schemaname, tablename) t from pg_publication_tables where pubname = :'pub' and :'scope' = 'published'
  union
  select format('%I.%I', n.nspname, c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where :'scope' = 'all' and c.relkind in ('r', 'p', 'v', 'm', 'f')
     and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
     and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')) l
SQL
  ) || fail "$(printf '%s\n' "$out" | tail -n 1)"
  step="finding the source's tables the target lacks"
  lacking=$(target_sql "$db" -v listed_file="$tmp/listed.json" <<'SQL'
\set listed `cat :'listed_file'`
select t from json_array_elements_text(:'listed'::json) t where to_regclass(t) is null
SQL
  ) || fail "cannot read the target's tables"
  local missing=() patterns=()
  while IFS= read -r t; do
    [ -n "$t" ] || continue
    missing+=("$t")
    # a quoted part of a pattern is matched literally; format('%I') quotes every name that is not plain
    patterns+=(-t "$t")
  done <<<"$lacking"
  [ ${#missing[@]} -gt 0 ] || return 0

  step="copying the schema of ${missing[*]}"
  local options=(--schema-only --no-publications --no-subscriptions --strict-names)
  [ -z "$snapshot" ] || options+=(--section=pre-data --snapshot="$snapshot")
  out=$(as_postgres "$pgbin/pg_dump" -w -d "$src" "${options[@]}" "${patterns[@]}" 2>&1 >"$tmp/tables.sql") ||
    fail "$(printf '%s\n' "$out" | tail -n 1)"
  out=$(target_sql "$db" --single-transaction -f "$tmp/tables.sql" 2>&1 >/dev/null) ||
    fail "nothing of it was kept: $(why "$out")"
  if [ -z "$snapshot" ]; then
    say "published since the schema copy, created here from the source's schema: ${missing[*]}"
  else
    say "new on the source since the schema copy, created here from the source's schema (pre-data): ${missing[*]}"
  fi
}

# drop_interrupted_slot: a slot of the subscription's name on the source, with no subscription here
# (this script creates it otherwise), is an interrupted copy's own: dropped when idle
drop_interrupted_slot() {
  : "${src:?}" "${subscription:?}"
  local out used
  step="reading the source's slot"
  # a slot of this name with no subscription here is an interrupted sync's own
  used=$(source_sql -v slot="$subscription" 2>&1 <<'SQL'
select case when active then 'active' else 'idle' end from pg_replication_slots where slot_name = :'slot'
SQL
  ) || fail "$(printf '%s\n' "$used" | tail -n 1)"
  [ "$used" != active ] || fail "the source's replication slot $subscription is in use by another connection: stop the subscriber that uses it"
  if [ "$used" = idle ]; then
    out=$(source_sql -v slot="$subscription" 2>&1 <<<"select pg_drop_replication_slot(:'slot')") ||
      fail "$(printf '%s\n' "$out" | tail -n 1)"
    say "the slot $subscription an interrupted sync left on the source is dropped"
  fi
}

# A target whose tables have no index yet (the schema copy brings the pre-data section only) is
# filled the way pg_restore would, not by the subscription's own copy (one stream per table into
# tables that keep their indexes up to date): a slot on the source exports a snapshot; every
# published table is copied at that snapshot, several at once, largest first; the indexes,
# constraints and triggers (post-data) are built after the data, in one transaction; then the
# subscription takes over that slot without copying, and streams every change made since.
copy_at_snapshot() {
  : "${src:?}" "${conn:?}" "${subscription:?}" "${publication:?}"
  make_tmp
  local out line

  step="creating the source's slot"
  # the session that made the slot holds its snapshot until it ends: it stays open through the
  # copy, reading from a pipe this script holds, answering into a file
  mkfifo "$tmp/slot.in"
  as_postgres "$pgbin/psql" -w -X -A -t -q -v ON_ERROR_STOP=1 "$src replication=database" <"$tmp/slot.in" >"$tmp/slot.out" 2>&1 &
  slot_pid=$!
  exec {slot_in}>"$tmp/slot.in"
  printf 'CREATE_REPLICATION_SLOT "%s" LOGICAL pgoutput EXPORT_SNAPSHOT;\n' "${subscription//\"/\"\"}" >&"$slot_in"
  # a whole line (the slot, or the error), or psql gone, or 120 s
  for _ in $(seq 240); do
    if [ "$(wc -l <"$tmp/slot.out")" -gt 0 ] || ! kill -0 "$slot_pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  line=$(head -n 1 "$tmp/slot.out")
  [[ "$line" =~ ^[^|]*\|[0-9A-F]+/[0-9A-F]+\|([0-9A-F-]+)\|pgoutput$ ]] || fail "${line:-no answer within 120 s}"
  snapshot=${BASH_REMATCH[1]}
  slot_made=1

  copy_missing_tables "$snapshot"

  step="reading the published tables"
  out=$(source_sql -v pub="$publication" -o "$tmp/copied.json" <<'SQL' 2>&1
select coalesce(json_agg(format('%I.%I', schemaname, tablename) order by pg_total_relation_size(format('%I.%I', schemaname, tablename)) desc), '[]')
  from pg_publication_tables where pubname = :'pub'
SQL
  ) || fail "$(printf '%s\n' "$out" | tail -n 1)"
  local tables=() t
  # names read through the target's JSON parser: one a line, control characters refused
  out=$(target_sql postgres -v listed_file="$tmp/copied.json" 2>&1 <<'SQL'
\set listed `cat :'listed_file'`
select case when t ~ '[[:cntrl:]]' then 'control character in ' || quote_literal(t) else t end from json_array_elements_text(:'listed'::json) with ordinality l(t, o) order by o
SQL
  ) || fail "$(printf '%s\n' "$out" | tail -n 1)"
  while IFS= read -r t; do
    [ -n "$t" ] || continue
    case $t in "control character in "*) fail "a published table's name holds a $t: rename it" ;; esac
    tables+=("$t")
  done <<<"$out"

  step="copying the tables at the slot's snapshot"
  copying=1
  local started=$EPOCHREALTIME
  local workers failed="" n=0 pid done_pid
  running=()
  workers=$(nproc)
  [ "$workers" -ge 2 ] || workers=2
  [ "$workers" -le 8 ] || workers=8
  declare -A table_of=()
  for t in "${tables[@]}"; do
    while [ ${#running[@]} -ge "$workers" ]; do
      wait -n -p done_pid "${running[@]}" || failed+=" ${table_of[$done_pid]}"
      mapfile -t running < <(printf '%s\n' "${running[@]}" | grep -vx "$done_pid")
    done
    [ -z "$failed" ] || break
    n=$((n + 1))
    (
      set -o pipefail
      as_postgres "$pgbin/pg_dump" -w -d "$src" --snapshot="$snapshot" --data-only --strict-names -t "$t" 2>"$tmp/dump.$n.err" |
        target_sql "$db" --single-transaction >/dev/null 2>"$tmp/load.$n.err"
    ) &
    pid=$!
    table_of[$pid]=$n
    running+=("$pid")
  done
  while [ ${#running[@]} -gt 0 ]; do
    wait -n -p done_pid "${running[@]}" || failed+=" ${table_of[$done_pid]}"
    mapfile -t running < <(printf '%s\n' "${running[@]}" | grep -vx "$done_pid")
  done
  if [ -n "$failed" ]; then
    n=${failed# }
    n=${n%% *}
    fail "${tables[$((n - 1))]}: $(cat "$tmp/dump.$n.err" "$tmp/load.$n.err" | grep -m 1 . || echo "no message")"
  fi
  say "${#tables[@]} tables copied at the slot's snapshot, $workers at a time, in $(seconds_since "$started") s"

  step="building the indexes and constraints (post-data)"
  started=$EPOCHREALTIME
  out=$(as_postgres "$pgbin/pg_dump" -w -d "$src" --snapshot="$snapshot" --schema-only --section=post-data --no-publications --no-subscriptions 2>&1 >"$tmp/post-data.sql") ||
    fail "$(printf '%s\n' "$out" | tail -n 1)"
  out=$(target_sql "$db" --single-transaction -f "$tmp/post-data.sql" 2>&1 >/dev/null) ||
    fail "nothing of it was kept: $(why "$out")"
  say "indexes and constraints built after the data, in $(seconds_since "$started") s"

  step="creating the subscription"
  # in one transaction with the check: a table published since the list was read would be taken
  # on as ready without its rows; the apply worker starts at the commit
  out=$(target_sql "$db" -v sub="$subscription" -v pub="$publication" -v conn="$conn" -v copied_file="$tmp/copied.json" 2>&1 <<'SQL'
\set copied `cat :'copied_file'`
BEGIN;
CREATE SUBSCRIPTION :"sub" CONNECTION :'conn' PUBLICATION :"pub" WITH (copy_data = false, create_slot = false, slot_name = :'sub');
select set_config('pg_replication.copied', :'copied', true), set_config('pg_replication.subscription', :'sub', true) \gset
DO $$
DECLARE uncopied text;
BEGIN
  SELECT string_agg(t, ', ') INTO uncopied
    FROM (SELECT format('%I.%I', n.nspname, c.relname) t
            FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid
            JOIN pg_class c ON c.oid = r.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE s.subname = current_setting('pg_replication.subscription')) x
   WHERE t NOT IN (SELECT json_array_elements_text(current_setting('pg_replication.copied')::json));
  IF uncopied IS NOT NULL THEN
    RAISE EXCEPTION 'published after the copy began, so not copied: %', uncopied;
  END IF;
END $$;
COMMIT;
SQL
  ) || fail "nothing of it was kept: $(why "$out")"
  subscribed=1
  exec {slot_in}>&-
  wait "$slot_pid" 2>/dev/null || true
  say "subscription $subscription created on the copy's slot: changes made since the snapshot stream from the source"
}

# undo: a copy at the snapshot that failed leaves the target as it found it (its tables were
# empty, and its schema without indexes: a rerun copies again) and drops the slot on the source
undo() {
  [ -n "${slot_made:-}" ] && [ -z "${subscribed:-}" ] || return 0
  slot_made=""
  undone=""
  [ -z "${slot_in:-}" ] || exec {slot_in}>&-
  [ -z "${slot_pid:-}" ] || wait "$slot_pid" 2>/dev/null || true
  local out
  if [ -n "${copying:-}" ]; then
    # the copies still running, by name: a plain wait would wait for the host's lock too
    [ ${#running[@]} -eq 0 ] || wait "${running[@]}" 2>/dev/null || true
    out=$(target_sql "$db" -v copied_file="$tmp/copied.json" 2>&1 <<'SQL'
\set copied `cat :'copied_file'`
select format('TRUNCATE %s', string_agg(t, ', ')) from json_array_elements_text(:'copied'::json) t where to_regclass(t) is not null having count(*) > 0 \gexec
SQL
    ) && undone="the target's tables emptied again, " || undone="the target's tables could not be emptied ($(printf '%s\n' "$out" | grep -m 1 ERROR)), "
  fi
  out=$(source_sql -v slot="$subscription" 2>&1 <<<"select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = :'slot'") &&
    undone+="the source's slot $subscription dropped" || undone+="the source's slot $subscription left ($(printf '%s\n' "$out" | tail -n 1))"
  undone="undone: $undone"
}

cleanup() {
  local rc=$?
  unwatch
  undone=""
  undo
  [ -z "$undone" ] || echo "pg-replication migration on $host: $step was interrupted: $undone" >&2
  [ -z "${tmp:-}" ] || rm -rf "$tmp"
  unlock_host
  exit "$rc"
}

main() {
  : "${db:?}" "${src:?}" "${conn:?}" "${subscription:?}" "${publication:?}" "${published:?}"
  begin
  running=()
  trap cleanup EXIT

  step="checking the subscription"
  exists=$(target_sql "$db" -v sub="$subscription" <<<"select count(*) from pg_subscription where subname = :'sub'")
  if [ "$exists" = 1 ]; then
    copy_missing_tables
    step="updating the subscription in place"
    target_sql "$db" -v sub="$subscription" -v pub="$publication" -v conn="$conn" <<'SQL'
ALTER SUBSCRIPTION :"sub" CONNECTION :'conn';
ALTER SUBSCRIPTION :"sub" SET PUBLICATION :"pub" WITH (refresh = false);
ALTER SUBSCRIPTION :"sub" ENABLE;
ALTER SUBSCRIPTION :"sub" REFRESH PUBLICATION;
SQL
    say "subscription $subscription kept (altered in place, refreshed: publishing $published)"
  else
    step="checking that the target tables are empty"
    # read from the tables themselves: statistics are gone after a crash, and a promoted standby has none
    busy=$(
      target_sql "$db" <<'SQL'
select string_agg(format('%I.%I', n.nspname, c.relname), ', ')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
   and (xpath('/row/c/text()', query_to_xml(format('select exists (select from %I.%I) as c', n.nspname, c.relname), false, true, '')))[1]::text = 'true'
SQL
    )
    if [ -n "$busy" ]; then
      # an idle slot of the subscription's name and no subscription: a copy stopped before it ended
      left=$(source_sql -v slot="$subscription" <<<"select 1 from pg_replication_slots where slot_name = :'slot' and not active" 2>/dev/null || true)
      [ "$left" != 1 ] || fail "tables of $db already hold rows ($busy), and the source still has the slot $subscription: a copy stopped before it ended left them; empty them (TRUNCATE) and run up again, the copy starts over"
      fail "tables of $db already hold rows ($busy): a new subscription would copy over them; empty them, or keep the subscription that filled them"
    fi
    step="reading the target's indexes"
    indexes=$(target_sql "$db" <<'SQL'
select count(*) from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
 where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
SQL
    ) || fail "cannot read the target's indexes"
    # after the check: a refused subscription leaves the target as it was
    drop_interrupted_slot
    if [ "$indexes" = 0 ]; then
      copy_at_snapshot
    else
      # a schema made before (by hand, or by an earlier version) keeps its indexes: the subscription copies
      copy_missing_tables
      step="creating the subscription"
      target_sql "$db" -v sub="$subscription" -v pub="$publication" -v conn="$conn" <<'SQL' || fail "CREATE SUBSCRIPTION was refused (the server log has the reason; the password is never in it: it is in the passfile)"
CREATE SUBSCRIPTION :"sub" CONNECTION :'conn' PUBLICATION :"pub";
SQL
      say "subscription $subscription created: the initial copy starts"
    fi
  fi

  step="waiting for the initial copy"
  for i in $(seq 3600); do
    pending=$(target_sql "$db" -v sub="$subscription" <<<"select count(*) filter (where r.srsubstate <> 'r') || '/' || count(*) from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid where s.subname = :'sub'")
    [ "${pending%%/*}" = 0 ] && break
    [ $((i % 20)) -ne 1 ] || say "initial copy: $pending tables still copying"
    sleep 0.5
  done
  [ "${pending%%/*}" = 0 ] || fail "the initial copy did not finish within 30 minutes ($pending tables still copying)"
  say "every table copied; changes stream from the source"
}

main "$@"
