-- JOSH 2.0 schema, checklist step 2a: identity and registration (users, otp_sessions).
-- Owner service: conversation-router.
-- Columns, defaults, constraint names and indexes as in the schema document. Additions are marked "addition".

create table if not exists public.users (
  id uuid primary key default gen_random_uuid(),
  phone_e164 text not null,
  phone_hash text not null,
  first_name text not null,
  last_name text not null,
  birthday date not null,
  email citext,
  state public.user_state not null default 'unverified',
  sms_consent boolean not null,
  age_consent boolean not null,
  terms_consent boolean not null,
  privacy_consent boolean not null,
  region_id uuid, -- FK to regions added in 20261122000310_regions.sql (regions is created after users)
  suspended_at timestamptz,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint users_phone_hash_uniq unique (phone_hash),
  constraint users_phone_e164_uniq unique (phone_e164),
  -- addition: phone numbers are stored in E.164 ("+" then 7 to 15 digits, no leading zero)
  constraint users_phone_e164_format check (phone_e164 ~ '^\+[1-9][0-9]{6,14}$')
);

create index if not exists users_region_idx on public.users(region_id);
create index if not exists users_state_idx on public.users(state);

create table if not exists public.otp_sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  otp_hash text not null,
  expires_at timestamptz not null,
  verified_at timestamptz,
  attempts int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- The document's constraint, made to mean what its name says: with the default NULLS DISTINCT, any number
  -- of unverified (verified_at is null) rows per user would pass. NULLS NOT DISTINCT (Postgres 15+) allows
  -- at most one open code per user; a resend replaces that row's code and resets its attempts
  -- (product-rules section 2), and verified rows stay as history.
  constraint otp_one_active_per_user unique nulls not distinct (user_id, verified_at),
  -- addition
  constraint otp_sessions_attempts_nonnegative check (attempts >= 0)
);

create index if not exists otp_sessions_user_idx on public.otp_sessions(user_id);
create index if not exists otp_sessions_expires_idx on public.otp_sessions(expires_at);
