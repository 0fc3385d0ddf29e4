-- outbound-sender's working columns and tables (issue 4): leases so a crashed sender's job is picked up
-- again, the "send started, outcome unknown" marker that makes a resend check Twilio first, per-job
-- segments / urgency / validity, Twilio error codes, forward-only delivery status, and the per-sender pause
-- that 30007 / 30034 put in place until ops resume the sender.
-- Owner service: outbound-sender (role josh_outbound_sender). Everything added to existing tables is
-- nullable or defaulted, so older code keeps working. Redefines public.josh_schema_version().

-- ---------------------------------------------------------------------------------------------------------
-- sms_outbound_jobs
-- ---------------------------------------------------------------------------------------------------------
alter table public.sms_outbound_jobs
  add column if not exists phone_hash text,                  -- keyed hash of to_e164: the suppression key
  add column if not exists sender text,                      -- From number or Messaging Service SID used
  add column if not exists segments int,                     -- SMS segments of the body (token-bucket cost)
  add column if not exists urgent boolean not null default false,   -- bypasses quiet hours
  add column if not exists validity_seconds int,             -- Twilio ValidityPeriod; null = none
  add column if not exists lease_until timestamptz,          -- a worker holds the job until then
  add column if not exists lease_owner text,                 -- which worker holds it
  add column if not exists send_started_at timestamptz,      -- an attempt whose outcome is not recorded yet
  add column if not exists error_code int,                   -- the last Twilio error code, if any
  add column if not exists delivery_status text,             -- Twilio status of the sent message, forward only
  add column if not exists sent_at timestamptz;              -- when Twilio accepted it

do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.sms_outbound_jobs'::regclass
                   and conname = 'sms_outbound_jobs_segments_positive') then
    alter table public.sms_outbound_jobs
      add constraint sms_outbound_jobs_segments_positive check (segments >= 1);
  end if;
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.sms_outbound_jobs'::regclass
                   and conname = 'sms_outbound_jobs_validity_positive') then
    alter table public.sms_outbound_jobs
      add constraint sms_outbound_jobs_validity_positive check (validity_seconds > 0);
  end if;
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.sms_outbound_jobs'::regclass
                   and conname = 'sms_outbound_jobs_lease_pair') then
    alter table public.sms_outbound_jobs
      add constraint sms_outbound_jobs_lease_pair check ((lease_until is null) = (lease_owner is null));
  end if;
end
$$;

-- The due-jobs query (status = 'pending' and run_at <= now) uses sms_outbound_jobs_due_idx from
-- 20261122000850. Status callbacks find a job by its message SID; the single opt-out confirmation looks
-- up earlier jobs to the same number.
create index if not exists sms_outbound_jobs_sid_idx
  on public.sms_outbound_jobs(twilio_message_sid) where twilio_message_sid is not null;
create index if not exists sms_outbound_jobs_phone_purpose_idx
  on public.sms_outbound_jobs(phone_hash, purpose, created_at);

-- ---------------------------------------------------------------------------------------------------------
-- sms_messages (outbound rows)
-- ---------------------------------------------------------------------------------------------------------
alter table public.sms_messages
  add column if not exists num_segments int,                 -- segments Twilio billed (or we counted)
  add column if not exists error_code int,                   -- Twilio ErrorCode of a failed / undelivered status
  add column if not exists reconciled_at timestamptz;        -- last time reconciliation asked Twilio

do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.sms_messages'::regclass
                   and conname = 'sms_messages_num_segments_nonnegative') then
    alter table public.sms_messages
      add constraint sms_messages_num_segments_nonnegative check (num_segments >= 0);
  end if;
end
$$;

-- Reconciliation: outbound messages still without a final status.
create index if not exists sms_messages_out_unsettled_idx
  on public.sms_messages(created_at)
  where direction = 'out' and (status is null or status in ('accepted','scheduled','queued','sending','sent'));

-- ---------------------------------------------------------------------------------------------------------
-- sms_sender_pauses: a sender (From number or Messaging Service SID) that Twilio blocked (30007 carrier
-- filtering, 30034 unregistered A2P). Nothing is sent from it while resumed_at is null; ops resume it by
-- setting resumed_at once the cause is fixed. One row per sender, reused by later pauses.
-- ---------------------------------------------------------------------------------------------------------
create table if not exists public.sms_sender_pauses (
  sender text primary key,
  paused_at timestamptz not null,
  reason text not null,                  -- e.g. 'carrier_filtered', 'unregistered_a2p'
  error_code int,                        -- the Twilio error that paused it
  resumed_at timestamptz,                -- null = paused
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create or replace trigger set_updated_at before update on public.sms_sender_pauses
  for each row execute function public.set_updated_at();

alter table public.sms_sender_pauses enable row level security;

-- Never visible to anon/authenticated (no grant, no policy); Supabase's service_role gets everything.
revoke all on public.sms_sender_pauses from anon, authenticated;
grant all on public.sms_sender_pauses to service_role;

grant select, insert, update, delete on public.sms_sender_pauses to josh_outbound_sender;
drop policy if exists svc_owns_sms_sender_pauses_josh_outbound_sender on public.sms_sender_pauses;
create policy svc_owns_sms_sender_pauses_josh_outbound_sender on public.sms_sender_pauses
  for all to josh_outbound_sender using (true) with check (true);

-- ---------------------------------------------------------------------------------------------------------
-- Schema version (see 20261122000900_schema_version.sql): this file is the newest migration.
-- ---------------------------------------------------------------------------------------------------------
create or replace function public.josh_schema_version()
returns bigint
language sql immutable
as $$ select 20261122001000::bigint $$;

grant execute on function public.josh_schema_version() to public;
