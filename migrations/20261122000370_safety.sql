-- JOSH 2.0 schema, checklist step 2h: safety and abuse prevention
-- (safety_holds, safety_incidents, safety_reports, user_blocks, user_strikes).
-- Owner service: conversation-router. Read by linkup-matcher: safety_holds, user_blocks.

create table if not exists public.safety_holds (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  state public.safety_hold_state not null default 'none',
  reason text,
  applied_at timestamptz,
  expires_at timestamptz,
  cleared_at timestamptz,
  applied_by_admin uuid, -- FK to admin_users added in 20261122000380_admin_and_audit.sql
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint safety_holds_user_uniq unique (user_id)
);

create index if not exists safety_holds_state_idx on public.safety_holds(state);

create table if not exists public.safety_incidents (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references public.users(id) on delete set null,
  reporter_user_id uuid references public.users(id) on delete set null,
  reporter_phone_hash text,
  incident_type text not null,
  severity int not null,
  details jsonb not null default '{}'::jsonb,
  status text not null default 'open' check (status in ('open','reviewing','resolved')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- addition: severity is a small ordinal (product-rules section 9 tiers: 1 low, 2 medium, 3 high,
  -- 4 crisis; 5 left for an ops escalation)
  constraint safety_incidents_severity_range check (severity between 1 and 5)
);

create index if not exists safety_incidents_status_idx on public.safety_incidents(status);
create index if not exists safety_incidents_user_idx on public.safety_incidents(user_id);

create table if not exists public.safety_reports (
  id uuid primary key default gen_random_uuid(),
  reporter_user_id uuid references public.users(id) on delete set null,
  reported_user_id uuid references public.users(id) on delete set null,
  reporter_phone_hash text,
  report_type text not null,
  details jsonb not null default '{}'::jsonb,
  status text not null default 'open' check (status in ('open','reviewing','resolved')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- addition: nobody reports themselves (passes when either side is NULL, e.g. after a deletion)
  constraint safety_reports_not_self check (reporter_user_id <> reported_user_id)
);

create index if not exists safety_reports_status_idx on public.safety_reports(status);
-- addition: serves the "own reports" RLS policy and the report lookups by reporter
create index if not exists safety_reports_reporter_idx on public.safety_reports(reporter_user_id);

create table if not exists public.user_blocks (
  id uuid primary key default gen_random_uuid(),
  blocker_user_id uuid not null references public.users(id) on delete cascade,
  blocked_user_id uuid not null references public.users(id) on delete cascade,
  created_at timestamptz not null default now(),
  constraint user_blocks_once unique (blocker_user_id, blocked_user_id),
  -- addition
  constraint user_blocks_not_self check (blocker_user_id <> blocked_user_id)
);

-- addition: matching excludes blocks "either way", which needs the blocked side indexed too
create index if not exists user_blocks_blocked_idx on public.user_blocks(blocked_user_id);

create table if not exists public.user_strikes (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  strike_type text not null,
  points int not null,
  reason text,
  window_start timestamptz not null,
  window_end timestamptz not null,
  created_at timestamptz not null default now(),
  -- additions
  constraint user_strikes_points_positive check (points > 0),
  constraint user_strikes_window_order check (window_end > window_start)
);

create index if not exists user_strikes_user_idx on public.user_strikes(user_id);
