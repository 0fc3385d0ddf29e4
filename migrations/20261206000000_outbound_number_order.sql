-- outbound-sender's claim sends a number's texts in order: a pending job is due only when no earlier
-- pending job to the same number exists. Without an index that check scanned every pending job, so a
-- backlog of n pending jobs made each claim O(n) (measured by deploy/load.sh, docs/benchmarks.md).
-- Redefines public.josh_schema_version().
create index if not exists sms_outbound_jobs_number_order_idx
  on public.sms_outbound_jobs(to_e164, run_at, created_at, id) where status = 'pending';

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206000000::bigint $$;
grant execute on function public.josh_schema_version() to public;
