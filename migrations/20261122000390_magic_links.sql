-- JOSH 2.0 schema, checklist step 2j: magic links for the read-only LinkUp web view.
-- Owner service: conversation-router. Only the SHA-256 of the 32 random token bytes is stored; one-time use
-- is enforced by `update ... set consumed_at = now() where token_hash = $1 and consumed_at is null`.

create table if not exists public.magic_links (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  token_hash text not null,
  purpose text not null,
  linkup_id uuid references public.linkups(id) on delete cascade,
  expires_at timestamptz not null,
  consumed_at timestamptz,
  created_at timestamptz not null default now(),
  constraint magic_links_token_uniq unique (token_hash)
);

create index if not exists magic_links_user_idx on public.magic_links(user_id);
create index if not exists magic_links_expires_idx on public.magic_links(expires_at);
