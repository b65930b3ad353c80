#!/usr/bin/env bash
# ci/key-file.sh VAR FILE: writes the value of the environment variable VAR (a key the workflow
# gives one step) to FILE, readable by this user alone (0600, its folder 0700 when made here). The
# value never appears in a command line. Refuses an empty value: a secret not set reads as empty.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: key-file.sh VAR FILE" >&2; exit 2; }
var=$1 file=$2
[ -n "${!var:-}" ] || { echo "key-file: $var is empty: set the secret it comes from" >&2; exit 1; }
umask 077
mkdir -p "$(dirname "$file")"
rm -f "$file"
printf '%s\n' "${!var%$'\n'}" > "$file"
chmod 600 "$file"
