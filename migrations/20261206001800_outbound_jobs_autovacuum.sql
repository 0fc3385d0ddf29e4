-- sms_outbound_jobs keeps every job (retention nulls bodies, rows stay), so triggers that scale
-- with the table (2 % of it dead since 20261206000400; Postgres's 20 % of it newly inserted)
-- fire ever more rarely as the history grows. Meanwhile each sent job leaves a dead entry at the
-- head of the due index (20261206001400) that every claim steps over until VACUUM removes it:
-- ~1 buffer a claim per 30 entries (docs/benchmarks.md, session 8), so hours between vacuums
-- would make each claim read thousands of pages. Page pruning also lowers the dead-tuple count
-- that trigger looks at, so the insert trigger carries the load: a vacuum every 10,000 new jobs
-- (at most one per autovacuum naptime), and every 10,000 dead tuples, whatever the table's size.
-- Redefines public.josh_schema_version().
alter table public.sms_outbound_jobs set (
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 10000,
  autovacuum_vacuum_insert_scale_factor = 0,
  autovacuum_vacuum_insert_threshold = 10000
);

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206001800::bigint $$;
grant execute on function public.josh_schema_version() to public;
