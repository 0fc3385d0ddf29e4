-- JOSH 2.0 schema, checklist step 2d: profile and signals (profiles, profile_events).
-- Owner service: conversation-router. JSON shapes (Friend Fingerprint, activity_patterns, boundaries) are
-- described in the schema document and validated by the application.

create table if not exists public.profiles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  state public.profile_state not null default 'empty',
  fingerprint jsonb not null default '{}'::jsonb,
  activity_patterns jsonb not null default '[]'::jsonb,
  boundaries jsonb not null default '{}'::jsonb,
  preferences jsonb not null default '{}'::jsonb,
  active_intent jsonb,
  last_interview_step text,
  completed_at timestamptz,
  stale_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_user_uniq unique (user_id),
  -- additions: the JSON containers have the shapes the document shows
  constraint profiles_fingerprint_is_object check (jsonb_typeof(fingerprint) = 'object'),
  constraint profiles_activity_patterns_is_array check (jsonb_typeof(activity_patterns) = 'array'),
  constraint profiles_boundaries_is_object check (jsonb_typeof(boundaries) = 'object'),
  constraint profiles_preferences_is_object check (jsonb_typeof(preferences) = 'object')
);

create index if not exists profiles_state_idx on public.profiles(state);
create index if not exists profiles_user_idx on public.profiles(user_id);

create table if not exists public.profile_events (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  event_type text not null,
  source text not null,
  payload jsonb not null,
  idempotency_key text not null,
  correlation_id uuid,
  created_at timestamptz not null default now(),
  constraint profile_events_idem_uniq unique (idempotency_key)
);

create index if not exists profile_events_user_idx on public.profile_events(user_id);
create index if not exists profile_events_type_idx on public.profile_events(event_type);
