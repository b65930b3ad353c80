// Shell scripts a member receives over SSH. The SSH user needs passwordless sudo, as the
// users' own Ansible did; postgres itself is reached through its local peer authentication.
import { CONF_DIR, INCLUDE_PATH, PG_CLUSTER, PG_MAJOR } from "./postgresqlConf";
import { HBA_BEGIN, HBA_END } from "./pgHba";
import { shellQuote, sqlIdent, sqlLiteral } from "./quote";

const HBA_PATH = `${CONF_DIR}/pg_hba.conf`;

function heredoc(path: string, content: string): string {
  const marker = "PG_REPLICATION_EOF";
  if (content.split("\n").includes(marker)) throw new Error(`content for ${path} contains the heredoc marker`);
  return `cat > ${path} <<'${marker}'\n${content}${content.endsWith("\n") ? "" : "\n"}${marker}`;
}

/**
 * Installs the conf.d include and the managed pg_hba block, validates both with the server's
 * own parser before applying them, then reloads, and restarts only when a changed setting
 * needs it. A stopped server is started. Nothing changed means nothing is touched.
 */
export function renderApplyHostConfig(postgresqlConf: string, hbaBlock: string): string {
  const cluster = `${PG_MAJOR} ${PG_CLUSTER}`;
  return `set -eu
include=${shellQuote(INCLUDE_PATH)}
hba=${shellQuote(HBA_PATH)}
psql() { sudo -u postgres psql -X -A -t -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
${heredoc('"$tmp/conf"', postgresqlConf)}
${heredoc('"$tmp/hba_block"', hbaBlock)}

if ! sudo pg_ctlcluster ${cluster} status >/dev/null 2>&1; then
  echo "postgresql ${cluster} is down: starting it"
  sudo pg_ctlcluster ${cluster} start
fi

sudo test -e "$hba.pg-replication.orig" || sudo cp -p "$hba" "$hba.pg-replication.orig"
sudo cat "$hba" | awk -v begin=${shellQuote(HBA_BEGIN)} -v end=${shellQuote(HBA_END)} '
  $0 == begin { skip = 1; next }
  $0 == end { skip = 0; next }
  !skip { print }' > "$tmp/hba_rest"
cat "$tmp/hba_block" "$tmp/hba_rest" > "$tmp/hba"

changed=""
install_if_changed() { # src dest mode
  if ! sudo cmp -s "$1" "$2"; then
    if sudo test -e "$2"; then sudo cp -p "$2" "$2.pg-replication.prev"; else sudo rm -f "$2.pg-replication.prev"; fi
    sudo install -o postgres -g postgres -m "$3" "$1" "$2"
    echo "updated $2"
    changed="$changed $2"
  fi
}
sudo install -d -o postgres -g postgres -m 755 "$(dirname "$include")"
install_if_changed "$tmp/conf" "$include" 644
install_if_changed "$tmp/hba" "$hba" 640

if [ -z "$changed" ]; then
  echo "configuration unchanged"
  exit 0
fi

errors=$(psql -c "select 'pg_hba.conf line ' || line_number || ': ' || error from pg_hba_file_rules where error is not null
                  union all select sourcefile || ' line ' || sourceline || ': ' || name || ': ' || error from pg_file_settings where error is not null and error <> 'setting could not be applied'")
if [ -n "$errors" ]; then
  echo "refusing the new configuration, the server reports:" >&2
  echo "$errors" >&2
  for f in $changed; do
    if sudo test -e "$f.pg-replication.prev"; then sudo cp -p "$f.pg-replication.prev" "$f"; else sudo rm -f "$f"; fi
  done
  exit 1
fi

loaded=$(psql -c "select pg_conf_load_time()")
psql -c "select pg_reload_conf()" >/dev/null
# the reload is a signal: wait until the postmaster has read the files (new sessions show it)
for _ in $(seq 50); do
  [ "$(psql -c "select pg_conf_load_time()")" != "$loaded" ] && break
  sleep 0.1
done
pending=$(psql -c "select string_agg(name, ', ' order by name) from pg_settings where pending_restart")
if [ -n "$pending" ]; then
  echo "restarting postgresql ${cluster} for: $pending"
  sudo pg_ctlcluster ${cluster} restart -m fast
else
  echo "reloaded postgresql ${cluster}"
fi
`;
}

/** The SSH command that runs the admin-role SQL given on stdin, as the local postgres superuser. */
export const RUN_SQL_AS_POSTGRES = "cd / && sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres";

/**
 * SQL that creates or updates the superuser role the postgresql provider logs in with.
 * `verifier` is a SCRAM verifier, never the password; the SQL travels on stdin, not argv.
 */
export function renderAdminRoleSql(role: string, verifier: string): string {
  return [
    `SELECT format('CREATE ROLE %I', ${sqlLiteral(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlLiteral(role)}) \\gexec`,
    `ALTER ROLE ${sqlIdent(role)} WITH LOGIN SUPERUSER PASSWORD ${sqlLiteral(verifier)};`,
    "",
  ].join("\n");
}
