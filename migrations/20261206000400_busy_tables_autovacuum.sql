-- The tables every text writes several times (outbox, inbox, messages, jobs, message events) are
-- vacuumed and analyzed after 2 % of their rows changed instead of Postgres's 20 % / 10 %:
-- - the relays read unpublished outbox rows through a partial index that every publish turns
--   into a dead entry; vacuum removes them before they pile up under a backlog;
-- - the services' prepared statements are planned from these tables' statistics. A generic plan
--   made while a table was nearly empty (a new deployment) can walk a whole index for a lookup
--   by a unique key; the next ANALYZE makes every session re-plan, so it should come early.
-- Redefines public.josh_schema_version().

alter table public.event_outbox set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
alter table public.event_inbox set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
alter table public.sms_messages set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
alter table public.sms_outbound_jobs set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
alter table public.message_events set (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206000400::bigint $$;
grant execute on function public.josh_schema_version() to public;
