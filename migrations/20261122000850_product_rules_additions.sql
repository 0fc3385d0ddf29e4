-- Additions the flows need that the schema document lacks (spec/product-rules.md section 12, plus the
-- consent times and ZIP code of section 2). Everything here is nullable or defaulted, so code written
-- against the schema document alone keeps working. This file is self-contained: its own triggers, RLS,
-- grants and policies for the tables it adds.
-- (The "one active OTP" gap is fixed at the source: otp_one_active_per_user is NULLS NOT DISTINCT, see
-- 20261122000300_identity.sql. The region timezone is rules->>'timezone', see 20261122000310_regions.sql.)

-- Post-event conversation step (product-rules section 6): the enums keep exactly the schema document's
-- labels, so the router keeps mode 'idle' and records the step in state_token (e.g. 'post_event:attendance').

-- ---------------------------------------------------------------------------------------------------------
-- users: JOSH's own opt-out record and time (STOP family, or a carrier 21610 reported by outbound-sender);
-- the time of each consent (section 2: "each stored with its time"); the ZIP code the region came from.
-- ---------------------------------------------------------------------------------------------------------
alter table public.users
  add column if not exists opted_out_at timestamptz,       -- null = opted in
  add column if not exists sms_consent_at timestamptz,
  add column if not exists age_consent_at timestamptz,
  add column if not exists terms_consent_at timestamptz,
  add column if not exists privacy_consent_at timestamptz,
  add column if not exists zip_code text;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.users'::regclass and conname = 'users_zip_code_format') then
    alter table public.users add constraint users_zip_code_format check (zip_code ~ '^[0-9]{5}$');
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- sms_outbound_jobs: when the job may next be attempted (initially now, or the end of quiet hours; after a
-- retryable error, now + backoff), and a 'suppressed' final status for jobs to opted-out / unusable numbers.
-- ---------------------------------------------------------------------------------------------------------
alter table public.sms_outbound_jobs
  add column if not exists run_at timestamptz not null default now();

alter table public.sms_outbound_jobs drop constraint if exists sms_outbound_jobs_status_check;
alter table public.sms_outbound_jobs add constraint sms_outbound_jobs_status_check
  check (status in ('pending','sent','failed','suppressed'));

create index if not exists sms_outbound_jobs_due_idx on public.sms_outbound_jobs(run_at) where status = 'pending';

-- The suppression list outbound-sender enforces (design.md): numbers that opted out or are unusable.
-- Keyed by phone_hash (no plaintext number needed); lifting a suppression (START) sets lifted_at.
create table if not exists public.sms_suppressions (
  id uuid primary key default gen_random_uuid(),
  phone_hash text not null,
  user_id uuid references public.users(id) on delete set null,
  reason text not null check (reason in ('opted_out','carrier_opted_out','unusable')),
  error_code text,                       -- the Twilio error that caused it, e.g. '21610', '30005', '30006'
  suppressed_at timestamptz not null default now(),
  lifted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sms_suppressions_phone_uniq unique (phone_hash)
);

create index if not exists sms_suppressions_user_idx on public.sms_suppressions(user_id);

-- ---------------------------------------------------------------------------------------------------------
-- Pending SMS registrations: an unknown number registering over SMS answers several steps before a users
-- row (whose names, birthday and consents are NOT NULL) can exist. One open registration per phone.
-- ---------------------------------------------------------------------------------------------------------
create table if not exists public.sms_registrations (
  id uuid primary key default gen_random_uuid(),
  phone_hash text not null,
  phone_e164 text not null,
  step text not null,                    -- e.g. 'first_name', 'last_name', 'birthday', 'zip', 'agree'
  first_name text,
  last_name text,
  birthday date,
  email citext,
  zip_code text,
  consented_at timestamptz,              -- the AGREE step (SMS, age, terms + privacy)
  expires_at timestamptz not null,
  completed_at timestamptz,
  user_id uuid references public.users(id) on delete set null,   -- the user it became
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sms_registrations_phone_e164_format check (phone_e164 ~ '^\+[1-9][0-9]{6,14}$'),
  constraint sms_registrations_zip_code_format check (zip_code ~ '^[0-9]{5}$')
);

create unique index if not exists sms_registrations_one_open_idx
  on public.sms_registrations(phone_hash) where completed_at is null;
create index if not exists sms_registrations_expires_idx on public.sms_registrations(expires_at);

-- ---------------------------------------------------------------------------------------------------------
-- LinkUps: broadcast start, wave count, completion and post-event kickoff; the wave each invite was in.
-- ---------------------------------------------------------------------------------------------------------
alter table public.linkups
  add column if not exists broadcast_started_at timestamptz,
  add column if not exists wave_count int not null default 0,
  add column if not exists completed_at timestamptz,
  add column if not exists post_event_initiated_at timestamptz;

alter table public.linkup_invites
  add column if not exists wave_number int not null default 1;

do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.linkups'::regclass and conname = 'linkups_wave_count_nonnegative') then
    alter table public.linkups add constraint linkups_wave_count_nonnegative check (wave_count >= 0);
  end if;
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.linkup_invites'::regclass and conname = 'linkup_invites_wave_number_positive') then
    alter table public.linkup_invites add constraint linkup_invites_wave_number_positive check (wave_number >= 1);
  end if;
end
$$;

-- Outcomes: 'unsure' (the "3 not sure" answer) is already allowed; add 'no_response' for a participant
-- whose prompts ran out (7 days) without an answer, distinct from "not asked yet" (NULL). do_again stays
-- boolean, NULL = not answered. nudged_at records the single 24 h nudge.
alter table public.linkup_outcomes
  add column if not exists prompted_at timestamptz,
  add column if not exists nudged_at timestamptz;

alter table public.linkup_outcomes drop constraint if exists linkup_outcomes_attendance_response_check;
alter table public.linkup_outcomes add constraint linkup_outcomes_attendance_response_check
  check (attendance_response in ('attended','no_show','unsure','no_response'));

-- Match runs: one row per candidate search (a wave), with the parameters it used, so that a run can be
-- explained and reproduced (scoring is deterministic for the same inputs and run_key).
create table if not exists public.match_runs (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  wave_number int not null,
  run_key text not null,
  scoring_version text not null default 'v1',
  parameters jsonb not null default '{}'::jsonb,   -- weights, floors, wave size, cooldown, radius
  relaxation_level int not null default 0,          -- 0 none, L1..L3 (product-rules section 5)
  pool_size int,
  invited_count int,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  constraint match_runs_run_key_uniq unique (run_key),
  constraint match_runs_wave_number_positive check (wave_number >= 1),
  constraint match_runs_relaxation_level_range check (relaxation_level between 0 and 3)
);

create index if not exists match_runs_linkup_idx on public.match_runs(linkup_id);

-- ---------------------------------------------------------------------------------------------------------
-- Safety keyword rules (product-rules section 9): a versioned list in the database. Managed by migrations
-- and ops; the router reads the active rows of the highest list_version.
-- ---------------------------------------------------------------------------------------------------------
create table if not exists public.safety_keyword_rules (
  id uuid primary key default gen_random_uuid(),
  list_version int not null,
  tier text not null check (tier in ('low','medium','high','crisis')),
  phrase text not null,                  -- lower-case, punctuation stripped, matched as whole words/phrase
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint safety_keyword_rules_phrase_once unique (list_version, phrase),
  constraint safety_keyword_rules_phrase_lower_case check (phrase = lower(phrase) and phrase <> '')
);

insert into public.safety_keyword_rules (list_version, tier, phrase) values
  (1, 'low', 'loser'), (1, 'low', 'shut up'), (1, 'low', 'idiot'), (1, 'low', 'stupid'),
  (1, 'medium', 'hate you'), (1, 'medium', 'go away forever'), (1, 'medium', 'worthless'),
  (1, 'medium', 'i despise you'),
  (1, 'high', 'kill yourself'), (1, 'high', 'i will hurt you'), (1, 'high', 'i will find you'),
  (1, 'high', 'i know where you live'), (1, 'high', 'i am going to hurt you'), (1, 'high', 'doxx you'),
  (1, 'crisis', 'i want to die'), (1, 'crisis', 'end my life'), (1, 'crisis', 'suicide'),
  (1, 'crisis', 'kill myself'), (1, 'crisis', 'hurt myself'), (1, 'crisis', 'self harm')
on conflict (list_version, phrase) do update set tier = excluded.tier;

-- ---------------------------------------------------------------------------------------------------------
-- updated_at triggers, RLS, grants and policies for the tables above.
-- ---------------------------------------------------------------------------------------------------------
create or replace trigger set_updated_at before update on public.sms_suppressions
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.sms_registrations
  for each row execute function public.set_updated_at();
create or replace trigger set_updated_at before update on public.safety_keyword_rules
  for each row execute function public.set_updated_at();

alter table public.sms_suppressions enable row level security;
alter table public.sms_registrations enable row level security;
alter table public.match_runs enable row level security;
alter table public.safety_keyword_rules enable row level security;

-- Never visible to anon/authenticated (no grant, no policy); Supabase's service_role gets everything.
revoke all on public.sms_suppressions, public.sms_registrations, public.match_runs,
  public.safety_keyword_rules from anon, authenticated;
grant all on public.sms_suppressions, public.sms_registrations, public.match_runs,
  public.safety_keyword_rules to service_role;

do $$
declare
  m record;
  pol text;
begin
  for m in
    select * from (values
      ('josh_outbound_sender',     'sms_suppressions',     'owns'),
      ('josh_conversation_router', 'sms_registrations',    'owns'),
      ('josh_linkup_matcher',      'match_runs',           'owns'),
      ('josh_conversation_router', 'safety_keyword_rules', 'reads')
    ) as t(role_name, table_name, access)
  loop
    if m.access = 'owns' then
      execute format('grant select, insert, update, delete on public.%I to %I', m.table_name, m.role_name);
      pol := format('svc_owns_%s_%s', m.table_name, m.role_name);
      execute format('drop policy if exists %I on public.%I', pol, m.table_name);
      execute format('create policy %I on public.%I for all to %I using (true) with check (true)',
                     pol, m.table_name, m.role_name);
    else
      execute format('grant select on public.%I to %I', m.table_name, m.role_name);
      pol := format('svc_reads_%s_%s', m.table_name, m.role_name);
      execute format('drop policy if exists %I on public.%I', pol, m.table_name);
      execute format('create policy %I on public.%I for select to %I using (true)',
                     pol, m.table_name, m.role_name);
    end if;
  end loop;
end
$$;
