-- outbound-sender's claim takes the earliest due pending job whose number has no earlier pending job
-- (texts to one number leave in order). With `status = 'pending'` in the query, the schema's plain
-- index on status competes with the partial indexes, and when ANALYZE last ran while nothing was
-- pending (a quiet moment; in production any autovacuum analyze between bursts) the planner counts
-- one pending row and may pick the plain index, or the due index, for the "earlier job to the same
-- number" check: every claim then compares every pending job with every other one, dead index
-- entries included (quadratic in the backlog; docs/benchmarks.md, "the send claim's plan").
--
-- `pending` names the same fact as a column that no other index covers: the claim filters on it, so
-- the only index that can serve it is the one below, which answers both halves (its number's jobs in
-- send order; all pending jobs, few in the steady state, for the earliest due one). It replaces the
-- due index and the number-order index, whose predicates were on status.
-- Redefines public.josh_schema_version().
alter table public.sms_outbound_jobs
  add column if not exists pending boolean generated always as (status = 'pending') stored;

create index if not exists sms_outbound_jobs_pending_order_idx
  on public.sms_outbound_jobs(to_e164, run_at, created_at, id) where pending;
drop index if exists public.sms_outbound_jobs_number_order_idx;
drop index if exists public.sms_outbound_jobs_due_idx;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206000800::bigint $$;
grant execute on function public.josh_schema_version() to public;
