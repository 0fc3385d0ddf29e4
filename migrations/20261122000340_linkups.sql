-- JOSH 2.0 schema, checklist step 2e: LinkUps and invites
-- (linkups, linkup_invites, linkup_participants, linkup_reminders, linkup_outcomes).
-- Owner service: linkup-matcher. Includes the document's three "Composite Indexes (Recommended)".

create table if not exists public.linkups (
  id uuid primary key default gen_random_uuid(),
  initiator_user_id uuid not null references public.users(id) on delete restrict,
  region_id uuid not null references public.regions(id) on delete restrict,
  state public.linkup_state not null default 'draft',
  brief jsonb not null,
  acceptance_window_ends_at timestamptz,
  event_time timestamptz,
  venue jsonb,
  min_size int not null default 2,
  max_size int not null default 6,
  lock_version int not null default 0,
  locked_at timestamptz,
  canceled_reason text,
  correlation_id uuid,
  linkup_create_key text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint linkups_create_key_uniq unique (linkup_create_key),
  -- additions: group size bounds from product-rules section 4 (min >= 2, max <= 10, min < max)
  constraint linkups_min_size_at_least_2 check (min_size >= 2),
  constraint linkups_max_size_at_most_10 check (max_size <= 10),
  constraint linkups_min_size_below_max_size check (min_size < max_size),
  constraint linkups_lock_version_nonnegative check (lock_version >= 0),
  constraint linkups_brief_is_object check (jsonb_typeof(brief) = 'object')
);

create index if not exists linkups_region_state_idx on public.linkups(region_id, state);
create index if not exists linkups_initiator_idx on public.linkups(initiator_user_id);
create index if not exists linkups_window_idx on public.linkups(acceptance_window_ends_at);

create table if not exists public.linkup_invites (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  invited_user_id uuid not null references public.users(id) on delete cascade,
  state public.invite_state not null default 'pending',
  offered_options jsonb,
  selected_option text,
  sent_at timestamptz,
  responded_at timestamptz,
  expires_at timestamptz,
  closed_at timestamptz,
  response_message_sid text,
  idempotency_key text not null,
  explainability jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint linkup_invites_once unique (linkup_id, invited_user_id),
  constraint linkup_invites_idem_uniq unique (idempotency_key)
);

create index if not exists linkup_invites_user_state_idx on public.linkup_invites(invited_user_id, state);
create index if not exists linkup_invites_linkup_idx on public.linkup_invites(linkup_id);

create table if not exists public.linkup_participants (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  user_id uuid not null references public.users(id) on delete cascade,
  role text not null check (role in ('initiator','participant')),
  status text not null default 'confirmed' check (status in ('confirmed','canceled','no_show','attended')),
  joined_at timestamptz not null default now(),
  left_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint linkup_participants_once unique (linkup_id, user_id)
);

create index if not exists linkup_participants_linkup_idx on public.linkup_participants(linkup_id);
create index if not exists linkup_participants_user_idx on public.linkup_participants(user_id);

create table if not exists public.linkup_reminders (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  reminder_type text not null,
  scheduled_for timestamptz not null,
  sent_at timestamptz,
  status text not null default 'pending' check (status in ('pending','sent','failed')),
  idempotency_key text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint linkup_reminders_idem_uniq unique (idempotency_key)
);

create index if not exists linkup_reminders_sched_idx on public.linkup_reminders(scheduled_for);

create table if not exists public.linkup_outcomes (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  user_id uuid not null references public.users(id) on delete cascade,
  attendance_response text check (attendance_response in ('attended','no_show','unsure')),
  do_again boolean,
  feedback text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint linkup_outcomes_once unique (linkup_id, user_id)
);

create index if not exists linkup_outcomes_linkup_idx on public.linkup_outcomes(linkup_id);

-- Composite Indexes (Recommended) from the schema document.
create index if not exists linkups_state_window_idx on public.linkups(state, acceptance_window_ends_at);
create index if not exists invites_linkup_state_idx on public.linkup_invites(linkup_id, state);
create index if not exists participants_linkup_status_idx on public.linkup_participants(linkup_id, status);
