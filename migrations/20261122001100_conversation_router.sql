-- conversation-router's working tables (issue 5): JOSH's own opt-out record for every phone — users and
-- numbers that never registered alike, so a second STOP gets no second confirmation and START works before
-- registration — and the per-phone inbound rate-limit window (product-rules §1 step 4).
-- Owner service: conversation-router (role josh_conversation_router). Redefines public.josh_schema_version().

create table if not exists public.phone_opt_outs (
  phone_hash text primary key,
  user_id uuid references public.users(id) on delete set null,
  opted_out_at timestamptz,              -- null = opted in
  opted_in_at timestamptz,
  source text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint phone_opt_outs_source_known
    check (source in ('keyword', 'plain_language', 'carrier', 'admin'))
);

create index if not exists phone_opt_outs_user_idx on public.phone_opt_outs(user_id);

create table if not exists public.inbound_rate_windows (
  phone_hash text primary key,
  window_start timestamptz not null,
  message_count int not null default 0,
  warned boolean not null default false,  -- the one "slow down" reply of this window was sent
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint inbound_rate_windows_count_nonnegative check (message_count >= 0)
);

create or replace trigger set_updated_at before update on public.phone_opt_outs
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.inbound_rate_windows
  for each row execute function public.set_updated_at();

alter table public.phone_opt_outs enable row level security;
alter table public.inbound_rate_windows enable row level security;

-- Never visible to anon/authenticated; Supabase's service_role gets everything.
revoke all on public.phone_opt_outs, public.inbound_rate_windows from anon, authenticated;
grant all on public.phone_opt_outs, public.inbound_rate_windows to service_role;

grant select, insert, update, delete on public.phone_opt_outs, public.inbound_rate_windows
  to josh_conversation_router;

drop policy if exists svc_owns_phone_opt_outs_josh_conversation_router on public.phone_opt_outs;
create policy svc_owns_phone_opt_outs_josh_conversation_router on public.phone_opt_outs
  for all to josh_conversation_router using (true) with check (true);
drop policy if exists svc_owns_inbound_rate_windows_josh_conversation_router on public.inbound_rate_windows;
create policy svc_owns_inbound_rate_windows_josh_conversation_router on public.inbound_rate_windows
  for all to josh_conversation_router using (true) with check (true);

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261122001100::bigint $$;
grant execute on function public.josh_schema_version() to public;
