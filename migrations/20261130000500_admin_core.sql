-- Admin API for every service (issue 8, admin-core): shared token authentication, token bookkeeping,
-- outbound-sender's pause / kill switch set by admins, and resent jobs. Redefines
-- public.josh_schema_version().

-- ---------------------------------------------------------------------------------------------------------
-- Tokens. Every service authenticates admin calls through public.admin_authenticate(sha256), a SECURITY
-- DEFINER function, instead of reading admin_tokens: no service role sees token hashes, and the function
-- stamps last_used_at (at most once a minute per token) for `joshctl admin token list`.
-- ---------------------------------------------------------------------------------------------------------
alter table public.admin_tokens add column if not exists last_used_at timestamptz;

create or replace function public.admin_authenticate(p_token_sha256 text)
returns table (token_id uuid, admin_user_id uuid, role text)
language sql
volatile
security definer
set search_path = public, pg_temp
as $$
  with live as (
    select t.id, t.admin_user_id, u.role
      from public.admin_tokens t join public.admin_users u on u.id = t.admin_user_id
     where t.token_sha256 = p_token_sha256 and t.revoked_at is null
  ), stamped as (
    update public.admin_tokens t set last_used_at = now()
      from live
     where t.id = live.id and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute')
  )
  select id, admin_user_id, role from live
$$;

revoke all on function public.admin_authenticate(text) from public;
grant execute on function public.admin_authenticate(text)
  to josh_inbound_sms, josh_conversation_router, josh_linkup_matcher, josh_billing, josh_outbound_sender;

-- The router read admin_tokens directly (20261130000400); the function replaces that read.
drop policy if exists svc_reads_admin_tokens_josh_conversation_router on public.admin_tokens;
revoke select on public.admin_tokens from josh_conversation_router;

-- ---------------------------------------------------------------------------------------------------------
-- sms_sender_pauses: besides Twilio's automatic pauses (30007 / 30034, paused_by_admin null), ops pause a
-- From number or Messaging Service SID, or every sender at once (the kill switch: sender '*'), through
-- SenderAdmin. Resuming sets resumed_at (and who did it); the row is reused by later pauses.
-- ---------------------------------------------------------------------------------------------------------
alter table public.sms_sender_pauses
  add column if not exists paused_by_admin uuid references public.admin_users(id) on delete set null,
  add column if not exists resumed_by_admin uuid references public.admin_users(id) on delete set null;

-- ---------------------------------------------------------------------------------------------------------
-- sms_outbound_jobs: an admin resend is a new job linked to the failed / undelivered one it repeats.
-- ---------------------------------------------------------------------------------------------------------
alter table public.sms_outbound_jobs
  add column if not exists resent_from uuid references public.sms_outbound_jobs(id) on delete set null;

create index if not exists sms_outbound_jobs_resent_from_idx
  on public.sms_outbound_jobs(resent_from) where resent_from is not null;

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261130000500::bigint $$;
grant execute on function public.josh_schema_version() to public;
