-- Postgres serializes every notifying commit in the cluster behind one lock, held through the
-- commit's WAL flush: under load the outbox trigger's NOTIFY made the hot transactions (an
-- inbound text's, the router's, the sender's) queue one behind another for their flushes
-- instead of sharing them (docs/benchmarks.md, session 11: 5-15 backends waiting on it at
-- 250 texts/s). A transaction whose code wakes the relay itself after commit, over core NATS
-- (`bus::wake`), sets `josh.notify` to `off` (transaction-local) and the trigger stays quiet;
-- every other writer keeps the NOTIFY. A relay of an older release, which only listens to
-- Postgres, finds the quiet transactions' rows by polling until it is replaced.
-- Redefines public.josh_schema_version().
create or replace function public.event_outbox_notify()
returns trigger language plpgsql as $$
begin
  if current_setting('josh.notify', true) is distinct from 'off' then
    perform pg_notify('josh_outbox.' || new.producer, '');
  end if;
  return null;
end $$;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206002000::bigint $$;
grant execute on function public.josh_schema_version() to public;
