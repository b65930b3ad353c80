# Run on the repository host, as root: the commits in a stanza's archived WAL that deleted rows
# from, truncated or dropped relations of one database, read with pg_waldump from the segments
# archived since a moment. One line per commit: point|time|xid|lsn|deletes|truncated|dropped
# (deletes "filenode:count,…", dropped "filenode,…"). Header variables: stanza, backup_user,
# repo_path, dboid, since.
set -euo pipefail
: "${stanza:?}" "${backup_user:?}" "${repo_path:?}" "${dboid:?}" "${since:?}"
pgbin=/usr/lib/postgresql/15/bin

fail() {
  echo "recovery-points: $*" >&2
  exit 1
}
[ -x "$pgbin/pg_waldump" ] || fail "pg_waldump (postgresql-15) is not installed on the repository host"
scratch=$(mktemp -d /var/tmp/pg-replication-waldump.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
chown "$backup_user:" "$scratch"
chmod 700 "$scratch"

decompress() { # FILE: the segment's bytes on stdout, whatever pgBackRest compressed it with
  case $1 in
    *.lz4) command -v lz4 >/dev/null || fail "lz4 is not installed on the repository host"; lz4 -dc "$1" ;;
    *.zst) command -v zstd >/dev/null || fail "zstd is not installed on the repository host"; zstd -dc "$1" ;;
    *.gz) gzip -dc "$1" ;;
    *.bz2) bzip2 -dc "$1" ;;
    *) cat "$1" ;;
  esac
}

archive=$repo_path/archive/$stanza
[ -d "$archive" ] || fail "no archive of stanza $stanza in $repo_path"
# where a segment starts: its name is timeline, then the LSN's high half and segment number
start_lsn() { printf '%X/%X' "$((16#${1:8:8}))" "$((16#${1:16:8} * 16#1000000))"; }
# the records that start in segment $1, read with the next one ($2, may be empty) beside it, so
# that a record crossing into it is read whole
dump() {
  local end=()
  [ -z "$2" ] || end=(--end="$(start_lsn "$2")")
  (cd / && { runuser -u "$backup_user" -- "$pgbin/pg_waldump" --path="$scratch" --timeline="$((16#${1:0:8}))" \
    --start="$(start_lsn "$1")" "${end[@]}" 2>/dev/null || true; })
}

# segments (24 hex digits, not .history/.backup files) archived since the moment, oldest first
find "$archive" -type f -newermt "$since" -regextype posix-extended -regex '.*/[0-9A-F]{24}-[0-9a-f]{40}(\.[a-z0-9]+)?' -printf '%f %p\n' |
  sort | {
  prev=""
  while read -r name path; do
    seg=${name:0:24}
    decompress "$path" >"$scratch/$seg" || fail "could not read $path"
    chown "$backup_user:" "$scratch/$seg"
    if [ -n "$prev" ]; then
      if [ "${prev:0:8}" = "${seg:0:8}" ]; then dump "$prev" "$seg"; else dump "$prev" ""; fi
      rm -f "$scratch/$prev"
    fi
    prev=$seg
  done
  [ -z "$prev" ] || dump "$prev" ""
} | awk -v db="$dboid" '
  function field(name,   i) { for (i = 1; i <= NF; i++) if ($i == name) return $(i + 1); return "" }
  /^rmgr: Heap / && / desc: DELETE / {
    tx = field("tx:"); sub(/,$/, "", tx)
    if (match($0, /blkref #0: rel [0-9]+\/[0-9]+\/[0-9]+/)) {
      split(substr($0, RSTART + 16, RLENGTH - 16), r, "/")
      if (r[2] == db) deletes[tx, r[3]]++
      seen[tx] = 1
    }
    next
  }
  /^rmgr: Heap / && / desc: TRUNCATE / {
    tx = field("tx:"); sub(/,$/, "", tx)
    if (match($0, /relids [0-9 ]+/)) truncated[tx] = truncated[tx] substr($0, RSTART + 7, RLENGTH - 7)
    seen[tx] = 1
    next
  }
  /^rmgr: Transaction / && / desc: (COMMIT|ABORT) / {
    tx = field("tx:"); sub(/,$/, "", tx)
    lsn = field("lsn:"); sub(/,$/, "", lsn)
    aborted = / desc: ABORT /
    when = $0; sub(/^.* desc: (COMMIT|ABORT) /, "", when); sub(/;.*$/, "", when)
    dropped = ""
    if (match($0, /rels: [^;]*/)) {
      n = split(substr($0, RSTART + 6, RLENGTH - 6), rels, " ")
      for (i = 1; i <= n; i++) { split(rels[i], p, "/"); if (p[2] == db) dropped = dropped (dropped == "" ? "" : ",") p[3] }
    }
    counts = ""
    for (k in deletes) { split(k, kk, SUBSEP); if (kk[1] == tx) { counts = counts (counts == "" ? "" : ",") kk[2] ":" deletes[k]; delete deletes[k] } }
    t = truncated[tx]; gsub(/^ +| +$/, "", t); gsub(/ +/, ",", t)
    if (!aborted && (counts != "" || dropped != "")) print "point|" when "|" tx "|" lsn "|" counts "|" t "|" dropped
    delete truncated[tx]; delete seen[tx]
  }'
