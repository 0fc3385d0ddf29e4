#!/bin/sh
# One LOGIN role per service (josh_<service>_login), member of the NOLOGIN group role the
# migrations create; the same as deploy/dev.sh's ensure_login_roles. Runs in the postgres image
# after `joshctl migrate`, then applies the dev seed (/seed/dev.sql) like dev.sh's seed step.
# Needs PGHOST, PGUSER, PGPASSWORD, PGDATABASE and JOSH_DEV_DB_PASSWORD.
set -eu
for grp in josh_inbound_sms josh_conversation_router josh_linkup_matcher josh_billing josh_outbound_sender; do
    psql -X -q -v ON_ERROR_STOP=1 -v login="${grp}_login" -v grp="$grp" -v pw="$JOSH_DEV_DB_PASSWORD" <<'SQL'
select format('create role %I login in role %I', :'login', :'grp')
 where not exists (select from pg_roles where rolname = :'login') \gexec
select format('grant %I to %I', :'grp', :'login')
 where not pg_has_role(:'login', :'grp', 'member') \gexec
alter role :"login" with login password :'pw';
SQL
    echo "login role ready: ${grp}_login"
done
if [ -f /seed/dev.sql ]; then
    PGOPTIONS='--client-min-messages=warning' psql -X -q -v ON_ERROR_STOP=1 -1 -f /seed/dev.sql >/dev/null
    echo "applied the dev seed"
fi
