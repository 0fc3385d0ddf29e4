-- outbound-sender's claim walks pending jobs in due order and stops at the first one whose number
-- has no earlier pending job; it took every number's first pending job first, which made each
-- claim linear in the backlog (984 buffers a claim at 200 texts/s: docs/benchmarks.md, session 7).
-- This index serves the walk; the number-order index serves the "earlier job" probe.
-- Redefines public.josh_schema_version().
create index if not exists sms_outbound_jobs_pending_due_idx
  on public.sms_outbound_jobs(run_at, created_at, id) where pending;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206001400::bigint $$;
grant execute on function public.josh_schema_version() to public;
