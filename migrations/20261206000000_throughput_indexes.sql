-- Indexes for throughput (issue 9, measured with deploy/load.sh).
--
-- outbound-sender's claim sends a number's texts in order: a pending job is due only when no earlier
-- pending job to the same number exists. Without an index that check scanned every pending job, so a
-- backlog of n pending jobs made each claim O(n) (measured by deploy/load.sh, docs/benchmarks.md).
--
-- Every relay takes its own producer's unpublished rows in id order (and the lag gauge reads their
-- oldest): the partial index on id alone made each relay walk past the other producers' unpublished
-- rows, which under load was the costliest statement in Postgres (docs/benchmarks.md). Keyed by producer
-- first, each relay reads only its own rows; it replaces the id-only index.
-- Redefines public.josh_schema_version().
create index if not exists sms_outbound_jobs_number_order_idx
  on public.sms_outbound_jobs(to_e164, run_at, created_at, id) where status = 'pending';

create index if not exists event_outbox_unpublished_producer_idx
  on public.event_outbox(producer, id) where published_at is null;
drop index if exists public.event_outbox_unpublished_idx;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206000000::bigint $$;
grant execute on function public.josh_schema_version() to public;
