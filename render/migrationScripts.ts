// Scripts the target cluster's leader receives for a migration (on stdin of `sudo -n bash -s`,
// like the host steps): the source's roles and schema copied into the target database, and the
// subscription created or altered in place, never dropped and re-created over rows it copied.
// The source's password stays in a passfile (mode 0600): neither argv, nor a setting, nor a log.
import { conninfoValue, passfileField, shellQuote, sqlIdent, sqlLiteral } from "./quote";

export const SOURCE_PASSFILE = "/var/lib/postgresql/.pg-replication-source.pgpass";

export interface SourceAccess {
  host: string;
  address: string;
  port: number;
  database: string;
  user: string;
  sslmode: string;
}

/** A libpq connection string to the source that takes its password from the passfile. */
export function sourceConninfo(s: SourceAccess, applicationName: string): string {
  return [
    `host=${conninfoValue(s.address)}`,
    `port=${conninfoValue(s.port)}`,
    `dbname=${conninfoValue(s.database)}`,
    `user=${conninfoValue(s.user)}`,
    `passfile=${conninfoValue(SOURCE_PASSFILE)}`,
    // as configured: verify-ca and verify-full need the source's CA in ~postgres/.postgresql/root.crt
    // on the target leader, and the preflight from that leader says so when it is missing
    `sslmode=${conninfoValue(s.sslmode)}`,
    `application_name=${conninfoValue(applicationName)}`,
    "connect_timeout='10'",
  ].join(" ");
}

/** The source's passfile line. */
export function renderSourcePassfile(s: SourceAccess, password: string): string {
  const f = passfileField;
  return `${f(s.address)}:${f(s.port)}:*:${f(s.user)}:${f(password)}\n`;
}

const PRELUDE = `set -euo pipefail
pgbin=/usr/lib/postgresql/15/bin
datadir=/var/lib/postgresql/15/main
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
sock() { sed -n 5p "$datadir/postmaster.pid"; }
port() { sed -n 4p "$datadir/postmaster.pid"; }
target_sql() { local db=$1; shift; as_postgres "$pgbin/psql" -X -A -t -q -v ON_ERROR_STOP=1 -h "$(sock)" -p "$(port)" -d "$db" "$@"; }
say() { echo "pg-replication migration on $host: $*"; }
fail() { echo "pg-replication migration on $host: $step failed: $*" >&2; exit 1; }
`;

/** SQL run on the source that prints, per role, its name and the statement that creates it. */
const ROLES_SQL = `select rolname || E'\\t' || format('CREATE ROLE %I WITH %s %s %s %s %s %s %s%s;', rolname,
         case when rolsuper then 'SUPERUSER' else 'NOSUPERUSER' end,
         case when rolinherit then 'INHERIT' else 'NOINHERIT' end,
         case when rolcreaterole then 'CREATEROLE' else 'NOCREATEROLE' end,
         case when rolcreatedb then 'CREATEDB' else 'NOCREATEDB' end,
         case when rolcanlogin then 'LOGIN' else 'NOLOGIN' end,
         case when rolreplication then 'REPLICATION' else 'NOREPLICATION' end,
         case when rolbypassrls then 'BYPASSRLS' else 'NOBYPASSRLS' end,
         case when rolpassword is null then '' else format(' PASSWORD %L', rolpassword) end)
  from pg_authid where rolname !~ '^pg_' and oid >= 16384`;

/**
 * Copies the roles the target lacks (with their SCRAM verifiers, so passwords stay the same; a
 * role the target has already is never altered) and, into a target database that has no table
 * yet, the source database's schema. A target database that already has tables is left as it is.
 */
export function renderSchemaCopyScript(s: SourceAccess, targetDatabase: string): string {
  const src = sourceConninfo(s, "pg-replication schema copy");
  return `${PRELUDE}host=${shellQuote(s.host)}
src=${shellQuote(src)}
db=${shellQuote(targetDatabase)}
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
step="reading the source"
owner=$(as_postgres "$pgbin/psql" -X -A -t -d "$src" -c "select pg_get_userbyid(datdba) from pg_database where datname = current_database()" 2>&1) || fail "$owner"
roles=$(as_postgres "$pgbin/psql" -X -A -t -d "$src" <<'SQL' 2>&1
${ROLES_SQL}
SQL
) || fail "$roles"

step="copying the roles"
have=$(target_sql postgres -c "select rolname from pg_roles")
printf '%s\\n' "$roles" | awk -F'\\t' 'NR == FNR { have[$0] = 1; next } NF == 2 && !($1 in have) { print $2; n++ } END { if (!n) print "-- none" }' <(printf '%s\\n' "$have") - > "$tmp/roles.sql"
target_sql postgres -f "$tmp/roles.sql" >/dev/null || fail "creating the roles"
say "roles copied: $(grep -c '^CREATE ROLE' "$tmp/roles.sql" || true) new"

step="creating the target database"
target_sql postgres -v db="$db" -v owner="$owner" <<'SQL' || fail "CREATE DATABASE was refused"
select format('CREATE DATABASE %I OWNER %I', :'db', :'owner') where not exists (select from pg_database where datname = :'db') \\gexec
SQL

step="copying the schema"
tables=$(target_sql "$db" -c "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','p') and n.nspname not in ('pg_catalog','information_schema')")
if [ "$tables" != 0 ]; then
  say "database $db already has $tables tables: schema left as it is"
  exit 0
fi
out=$(as_postgres "$pgbin/pg_dump" -d "$src" --schema-only --no-publications --no-subscriptions 2>&1 >"$tmp/schema.sql") || fail "$(printf '%s\\n' "$out" | tail -n 1)"
target_sql "$db" -f "$tmp/schema.sql" >/dev/null || fail "the schema did not restore"
say "schema copied into $db"
`;
}

export interface SubscriptionScript {
  source: SourceAccess;
  targetDatabase: string;
  publication: string;
  subscription: string;
}

/**
 * Creates the subscription, or alters it in place when it exists (connection, publication,
 * enabled): it is never dropped and re-created, which would copy every table again. A new
 * subscription over tables that already hold rows is refused. Waits (bounded) until every table
 * has its initial copy, printing the progress.
 */
export function renderSubscriptionScript(s: SubscriptionScript): string {
  const conn = sourceConninfo(s.source, s.subscription);
  const sub = sqlIdent(s.subscription);
  const pub = sqlIdent(s.publication);
  return `${PRELUDE}host=${shellQuote(s.source.host)}
db=${shellQuote(s.targetDatabase)}
step="checking the subscription"
exists=$(target_sql "$db" -c "select count(*) from pg_subscription where subname = ${sqlLiteral(s.subscription)}")
if [ "$exists" = 1 ]; then
  step="updating the subscription in place"
  target_sql "$db" <<'SQL'
ALTER SUBSCRIPTION ${sub} CONNECTION ${sqlLiteral(conn)};
ALTER SUBSCRIPTION ${sub} SET PUBLICATION ${pub} WITH (refresh = false);
ALTER SUBSCRIPTION ${sub} ENABLE;
SQL
  say "subscription ${s.subscription} kept (altered in place)"
else
  step="checking that the target tables are empty"
  busy=$(target_sql "$db" <<'SQL'
select string_agg(format('%I.%I', n.nspname, c.relname), ', ')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
 where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
   and exists (select from pg_stat_user_tables t where t.relid = c.oid and t.n_live_tup > 0)
SQL
)
  [ -z "$busy" ] || fail "tables of $db already hold rows ($busy): a new subscription would copy over them; empty them, or keep the subscription that filled them"
  step="creating the subscription"
  target_sql "$db" <<'SQL' || fail "CREATE SUBSCRIPTION was refused (the server log has the reason; the password is never in it: it is in the passfile)"
CREATE SUBSCRIPTION ${sub} CONNECTION ${sqlLiteral(conn)} PUBLICATION ${pub};
SQL
  say "subscription ${s.subscription} created: the initial copy starts"
fi

step="waiting for the initial copy"
for i in $(seq 3600); do
  pending=$(target_sql "$db" -c "select count(*) filter (where r.srsubstate <> 'r') || '/' || count(*) from pg_subscription_rel r join pg_subscription s on s.oid = r.srsubid where s.subname = ${sqlLiteral(s.subscription)}")
  [ "\${pending%%/*}" = 0 ] && break
  [ $((i % 20)) -ne 1 ] || say "initial copy: $pending tables still copying"
  sleep 0.5
done
[ "\${pending%%/*}" = 0 ] || fail "the initial copy did not finish within 30 minutes ($pending tables still copying)"
say "every table copied; changes stream from the source"
`;
}
