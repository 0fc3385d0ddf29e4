-- A queue's statistics nearly always say no job is pending (ANALYZE samples a table of sent
-- jobs), so every plan over `pending` assumed the backlog empty: the partial indexes looked free
-- to scan whole, and outbound-sender's probes walked every pending job (3,000 buffers a claim in a
-- backlog: docs/benchmarks.md, session 8). Without statistics on the column, the planner takes
-- the default selectivity for a boolean (one half), which keeps the number-order probes on their
-- index condition and the primary-key lookups on the primary key however big the backlog.
-- ANALYZE then skips the column but keeps a row it gathered before, so the row is dropped here
-- (pg_statistic is the superuser's; another role is told what to ask of one).
-- Redefines public.josh_schema_version().
alter table public.sms_outbound_jobs alter column pending set statistics 0;

do $$
begin
  if (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
    delete from pg_catalog.pg_statistic s
     using pg_catalog.pg_attribute a
     where a.attrelid = 'public.sms_outbound_jobs'::regclass and a.attname = 'pending'
       and s.starelid = a.attrelid and s.staattnum = a.attnum;
  else
    raise notice 'a superuser should drop the statistics of sms_outbound_jobs.pending: '
      'delete from pg_statistic where starelid = ''public.sms_outbound_jobs''::regclass '
      'and staattnum = (select attnum from pg_attribute where attrelid = starelid and attname = ''pending'')';
  end if;
end
$$;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206001600::bigint $$;
grant execute on function public.josh_schema_version() to public;
