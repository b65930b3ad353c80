#!/bin/bash
# Prepares the sandbox's `old` host as its owners would before a migration (the program does not
# manage that server): logical WAL, a migration role, pg_hba lines for the new cluster and the
# controller, and a fresh application database `appdb` owned by `app` with sample data: the
# pgbench tables at scale SCALE (pgbench_history made REPLICA IDENTITY FULL unless --no-identity),
# `customers` (serial) and `orders` (identity, a foreign key to customers).
#   old-server.sh [--scale N] [--no-identity]
# Passwords: PGR_OLD_MIGRATOR_PASSWORD, PGR_OLD_APP_PASSWORD (the sandbox defaults below).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scale=5
identity=yes
while [[ $# -gt 0 ]]; do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --no-identity) identity=no; shift ;;
    *) die "usage: $0 [--scale N] [--no-identity]" ;;
  esac
done
[[ $scale =~ ^[0-9]+$ ]] || die "--scale takes a number"
migrator_pw=${PGR_OLD_MIGRATOR_PASSWORD:-m1grat0r-source-pw}
app_pw=${PGR_OLD_APP_PASSWORD:-app-pw-2026}
on_old() { ssh -F "$SSH_CONFIG" old "$@"; }
# SQL on stdin, as the local postgres superuser; $1 is the database
sql_old() { on_old "cd / && sudo -n -u postgres psql -X -q -v ON_ERROR_STOP=1 -d $1"; }

say "old: logical WAL, listening on its address, pg_hba lines for the migration"
on_old "printf '%s\n' \"listen_addresses = '*'\" 'wal_level = logical' | sudo -n tee /etc/postgresql/15/main/conf.d/migration.conf >/dev/null
  if ! sudo -n grep -q 'added for the migration' /etc/postgresql/15/main/pg_hba.conf; then
    { printf '%s\n' 'host all migrator 10.77.0.0/24 scram-sha-256 # added for the migration' 'host appdb app 10.77.0.0/24 scram-sha-256 # added for the migration'
      sudo -n cat /etc/postgresql/15/main/pg_hba.conf; } > /tmp/pgr-hba
    sudo -n install -o postgres -g postgres -m 640 /tmp/pgr-hba /etc/postgresql/15/main/pg_hba.conf
  fi
  sudo -n pg_ctlcluster 15 main restart"

say "old: roles migrator and app, a fresh appdb"
# the passwords go on stdin as psql variables, never in a command line
{
  printf '\\set migrator_pw %s\n\\set app_pw %s\n' "'$migrator_pw'" "'$app_pw'"
  cat << 'SQL'
select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name like 'pgr\_%' and not active;
drop database if exists appdb;
select 'create role migrator login superuser replication' where not exists (select from pg_roles where rolname = 'migrator') \gexec
select 'create role app login' where not exists (select from pg_roles where rolname = 'app') \gexec
alter role migrator password :'migrator_pw';
alter role app password :'app_pw';
create database appdb owner app;
SQL
} | sql_old postgres

say "old: sample data (pgbench scale $scale, customers, orders)"
on_old "cd / && sudo -n -u postgres /usr/lib/postgresql/15/bin/pgbench -i -q -s $scale appdb >/dev/null 2>&1"
{
  cat << 'SQL'
alter table pgbench_accounts owner to app;
alter table pgbench_branches owner to app;
alter table pgbench_tellers owner to app;
alter table pgbench_history owner to app;
create table customers (id serial primary key, name text not null);
create table orders (id bigint generated always as identity primary key, customer_id int not null references customers(id), amount numeric not null);
alter table customers owner to app;
alter table orders owner to app;
insert into customers (name) select 'c' || g from generate_series(1, 1000) g;
insert into orders (customer_id, amount) select 1 + g % 1000, g from generate_series(1, 20000) g;
SQL
  [[ $identity == no ]] || echo "alter table pgbench_history replica identity full;"
} | sql_old appdb
say "old: ready"
