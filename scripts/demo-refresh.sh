#!/usr/bin/env bash
# make demo-refresh: sandbox-production up with its backups, a table of people and their orders
# there, a full backup, sandbox-staging up, then make refresh FROM=sandbox-production
# TO=sandbox-staging and the same rows on both sides.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "$0")/env.sh"
cd "$PGR_ROOT"
bash toolchain/build.sh
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-pg-replication-sandbox}
on() { ssh -F "$PGR_SANDBOX_DIR/ssh_config" "$1" "cd / && sudo -n -u postgres psql -X -q -d $2"; }

for stack in sandbox-production sandbox-staging; do
  pulumi stack select --create "$stack" --non-interactive >/dev/null
done
echo "== sandbox-production: pulumi up (backups to host backup, stanza sandbox-production-main)"
pulumi up --yes --stack sandbox-production --non-interactive
echo
echo "== production's data: 1000 people, 3000 orders"
on prod1 postgres <<<"select 'create database appdb' where not exists (select from pg_database where datname = 'appdb') \gexec"
on prod1 appdb <<'SQL'
drop table if exists orders, people;
create table people (id int primary key, email text unique not null, full_name text, phone text, notes text);
create table orders (id int primary key, person_id int not null references people, amount int);
insert into people select g, 'reader' || g || '@library.example.org', 'Reader Number ' || g, '+44 20 7946 ' || lpad(g::text, 4, '0'), 'borrowed book ' || g from generate_series(1, 1000) g;
insert into orders select g, 1 + g % 1000, g * 3 from generate_series(1, 3000) g;
SQL
echo
echo "== make backup STACK=sandbox-production TYPE=full"
TYPE=full node -r ts-node/register/transpile-only scripts/backup.ts sandbox-production
echo
echo "== sandbox-staging: pulumi up"
pulumi up --yes --stack sandbox-staging --non-interactive
echo
echo "== make refresh FROM=sandbox-production TO=sandbox-staging"
FROM=sandbox-production TO=sandbox-staging node -r ts-node/register/transpile-only scripts/refresh.ts
echo
echo "== the same three people on production (prod1) and staging (stg1, masked), and their orders"
query="select p.id, p.email, p.full_name, p.phone, p.notes, count(o.id) as orders from people p left join orders o on o.person_id = p.id where p.id <= 3 group by p.id order by p.id"
on prod1 appdb <<<"$query"
on stg1 appdb <<<"$query"
