-- Status callbacks update an outbound message's status two or three times (queued, sent, delivered).
-- The reconciliation index's predicate named `status`, so none of those updates could be HOT: each
-- wrote a new entry into all eight indexes of sms_messages (0 of 21,003 updates were HOT in a load
-- run; docs/benchmarks.md). `unsettled` names the same fact ("outbound, no final status yet") as a
-- column that changes only once, on the final status; with the index's predicate on it, the
-- intermediate updates change no indexed value and can stay on their page (the fillfactor leaves
-- room for them on pages written from now on).
-- Redefines public.josh_schema_version().
alter table public.sms_messages
  add column if not exists unsettled boolean generated always as (
    direction = 'out'
    and (status is null or status in ('accepted', 'scheduled', 'queued', 'sending', 'sent'))
  ) stored;

create index if not exists sms_messages_out_unsettled_at_idx
  on public.sms_messages(created_at) where unsettled;
drop index if exists public.sms_messages_out_unsettled_idx;

alter table public.sms_messages set (fillfactor = 85);

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206001000::bigint $$;
grant execute on function public.josh_schema_version() to public;
