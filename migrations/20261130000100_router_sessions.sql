-- conversation-router (issue 5): when a conversation last heard from its user and whether the one
-- dropout nudge went out (product-rules §3), read from the service's injectable clock rather than
-- updated_at (which any update touches); and the expiry of a pending clarifier or dialog lives in
-- the existing conversation_sessions.expires_at. Also the router's record of LinkUp requests.
-- Owner service: conversation-router. Redefines public.josh_schema_version().

alter table public.conversation_sessions
  add column if not exists last_inbound_at timestamptz,
  add column if not exists nudged_at timestamptz,
  -- invites awaiting a reply, kept apart from the mode so another dialog does not lose them
  add column if not exists pending_invites jsonb not null default '{"p": []}'::jsonb;

do $$
begin
  if not exists (select 1 from pg_constraint
                 where conrelid = 'public.conversation_sessions'::regclass
                   and conname = 'conversation_sessions_pending_invites_is_object') then
    alter table public.conversation_sessions add constraint conversation_sessions_pending_invites_is_object
      check (jsonb_typeof(pending_invites) = 'object');
  end if;
end $$;

-- When the profile last changed by the service clock: 180 days later it is stale (product-rules §3).
alter table public.profiles
  add column if not exists last_updated_at timestamptz;

create index if not exists profiles_staleness_idx on public.profiles(last_updated_at)
  where stale_at is null and state in ('complete_mvp', 'complete_full');

-- The nudge job looks for interviews gone quiet.
create index if not exists conversation_sessions_quiet_idx
  on public.conversation_sessions(last_inbound_at)
  where mode = 'interviewing' and nudged_at is null;

-- LinkUp requests as the router accepted them (product-rules §1 step 4: at most 3 a day per user;
-- §4: a repeated request yields the same LinkUp, so the create key is unique here too). The matcher
-- owns the LinkUp itself; this is the router's record of what it asked for and why.
create table if not exists public.linkup_requests (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  request_key text not null,
  brief jsonb not null,
  source_message_sid text,
  requested_at timestamptz not null,
  created_at timestamptz not null default now(),
  constraint linkup_requests_key_uniq unique (request_key),
  constraint linkup_requests_brief_is_object check (jsonb_typeof(brief) = 'object')
);

create index if not exists linkup_requests_user_time_idx
  on public.linkup_requests(user_id, requested_at);

alter table public.linkup_requests enable row level security;
revoke all on public.linkup_requests from anon, authenticated;
grant all on public.linkup_requests to service_role;
grant select, insert, update, delete on public.linkup_requests to josh_conversation_router;
drop policy if exists svc_owns_linkup_requests_josh_conversation_router on public.linkup_requests;
create policy svc_owns_linkup_requests_josh_conversation_router on public.linkup_requests
  for all to josh_conversation_router using (true) with check (true);

-- Registration over HTTP (product-rules §2): when the open code was last sent (30 s between sends,
-- by the service clock), and fixed one-hour windows counting codes per phone and requests per client
-- address. One table serves every such limit, keyed by scope ('otp_phone', 'register_ip', 'verify_ip').
alter table public.otp_sessions
  add column if not exists sent_at timestamptz;

create table if not exists public.http_rate_windows (
  scope text not null,
  key text not null,
  window_start timestamptz not null,
  hits int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (scope, key),
  constraint http_rate_windows_hits_nonnegative check (hits >= 0)
);

create or replace trigger set_updated_at before update on public.http_rate_windows
  for each row execute function public.set_updated_at();
alter table public.http_rate_windows enable row level security;
revoke all on public.http_rate_windows from anon, authenticated;
grant all on public.http_rate_windows to service_role;
grant select, insert, update, delete on public.http_rate_windows to josh_conversation_router;
drop policy if exists svc_owns_http_rate_windows_josh_conversation_router on public.http_rate_windows;
create policy svc_owns_http_rate_windows_josh_conversation_router on public.http_rate_windows
  for all to josh_conversation_router using (true) with check (true);

create or replace function public.josh_schema_version()
returns bigint language sql immutable
as $$ select 20261130000100::bigint $$;
