-- linkup-matcher's durable timers (issue 6) and the indexes its candidate query needs.
-- linkup_timers: one row per scheduled step of a LinkUp (the 2nd and 3rd invite waves, the acceptance
-- window's end, a replacement wave's deadline after a DROP, completion at event time + 2 h, the end of
-- post-event prompts after 7 days). A worker
-- claims due rows with FOR UPDATE SKIP LOCKED and marks them fired in the same transaction as their effect,
-- so each fires once however many workers run. Reminders keep their own table (linkup_reminders).
-- Owner service: linkup-matcher (role josh_linkup_matcher). Redefines public.josh_schema_version().

create table if not exists public.linkup_timers (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  kind text not null,
  seq int not null default 0,            -- the wave number for 'wave', 0 otherwise
  due_at timestamptz not null,
  fired_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint linkup_timers_once unique (linkup_id, kind, seq),
  constraint linkup_timers_kind_known
    check (kind in ('wave', 'window_end', 'replacement_end', 'complete', 'prompts_end')),
  constraint linkup_timers_seq_nonnegative check (seq >= 0)
);

-- The worker's scan: unfired rows by due time.
create index if not exists linkup_timers_due_idx on public.linkup_timers(due_at) where fired_at is null;
-- Reminders still to send, by due time.
create index if not exists linkup_reminders_pending_idx on public.linkup_reminders(scheduled_for)
  where status = 'pending';
-- Fair exposure: invites a person got in the last week (sent_at is set from the service clock).
create index if not exists linkup_invites_user_sent_idx on public.linkup_invites(invited_user_id, sent_at);
-- Reliability: a person's past outcomes.
create index if not exists linkup_outcomes_user_idx on public.linkup_outcomes(user_id);
-- Candidate scan: active members of one region.
create index if not exists region_memberships_region_active_idx on public.region_memberships(region_id, user_id)
  where status = 'active';

create or replace trigger set_updated_at before update on public.linkup_timers
  for each row execute function public.set_updated_at();

alter table public.linkup_timers enable row level security;

-- Never visible to anon/authenticated; Supabase's service_role gets everything.
revoke all on public.linkup_timers from anon, authenticated;
grant all on public.linkup_timers to service_role;

grant select, insert, update, delete on public.linkup_timers to josh_linkup_matcher;

drop policy if exists svc_owns_linkup_timers_josh_linkup_matcher on public.linkup_timers;
create policy svc_owns_linkup_timers_josh_linkup_matcher on public.linkup_timers
  for all to josh_linkup_matcher using (true) with check (true);

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261130000300::bigint $$;
grant execute on function public.josh_schema_version() to public;
