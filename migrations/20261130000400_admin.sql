-- Admin API authentication (issue 8): bearer tokens for admin_users. Only a SHA-256 (hex) of each token
-- is stored; `joshctl admin token create` prints the token once. A revoked token (revoked_at set) no
-- longer authenticates. The conversation-router reads tokens to authenticate its admin gRPC API and
-- reads domain_events to show a user's timeline. Redefines public.josh_schema_version().

create table if not exists public.admin_tokens (
  id uuid primary key default gen_random_uuid(),
  admin_user_id uuid not null references public.admin_users(id) on delete cascade,
  token_sha256 text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  constraint admin_tokens_sha256_uniq unique (token_sha256),
  constraint admin_tokens_sha256_hex check (token_sha256 ~ '^[0-9a-f]{64}$')
);

create index if not exists admin_tokens_admin_user_idx on public.admin_tokens(admin_user_id);

alter table public.admin_tokens enable row level security;

-- Never visible to anon/authenticated; Supabase's service_role gets everything.
revoke all on public.admin_tokens from anon, authenticated;
grant all on public.admin_tokens to service_role;

grant select on public.admin_tokens to josh_conversation_router;
drop policy if exists svc_reads_admin_tokens_josh_conversation_router on public.admin_tokens;
create policy svc_reads_admin_tokens_josh_conversation_router on public.admin_tokens
  for select to josh_conversation_router using (true);

-- The admin timeline reads the audit trail of state changes.
grant select on public.domain_events to josh_conversation_router;
drop policy if exists svc_reads_domain_events_josh_conversation_router on public.domain_events;
create policy svc_reads_domain_events_josh_conversation_router on public.domain_events
  for select to josh_conversation_router using (true);

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261130000400::bigint $$;
grant execute on function public.josh_schema_version() to public;
