-- conversation-router (issue 5): when a conversation last heard from its user and whether the one
-- dropout nudge went out (product-rules §3), read from the service's injectable clock rather than
-- updated_at (which any update touches); and the expiry of a pending clarifier or dialog lives in
-- the existing conversation_sessions.expires_at.
-- Owner service: conversation-router. Redefines public.josh_schema_version().

alter table public.conversation_sessions
  add column if not exists last_inbound_at timestamptz,
  add column if not exists nudged_at timestamptz;

-- The nudge job looks for interviews gone quiet.
create index if not exists conversation_sessions_quiet_idx
  on public.conversation_sessions(last_inbound_at)
  where mode = 'interviewing' and nudged_at is null;

create or replace function public.josh_schema_version()
returns bigint language sql immutable
as $$ select 20261130000100::bigint $$;
