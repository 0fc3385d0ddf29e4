-- The relays' reads of their unpublished outbox rows (`producer = $1 and published_at is null`, in id
-- order, and the lag gauge's oldest one) must use the producer-keyed partial index. The plain index on
-- published_at also answers `published_at is null`, and after an ANALYZE on a quiet outbox (no
-- unpublished rows) the planner took it: under load each relay then walked every producer's
-- unpublished rows and the dead entries of rows published since the last vacuum (~200 buffers per
-- batch, measured by deploy/load.sh; docs/benchmarks.md). Pruning, the only reader of published_at
-- ranges, gets a partial index that holds published rows only, so no index but the producer-keyed
-- one can serve the relays, and a row costs one index entry less.
-- Redefines public.josh_schema_version().
create index if not exists event_outbox_published_idx
  on public.event_outbox(producer, published_at) where published_at is not null;
drop index if exists public.event_outbox_published_at_idx;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206000600::bigint $$;
grant execute on function public.josh_schema_version() to public;
