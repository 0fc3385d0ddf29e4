-- JOSH 2.0 schema, checklist step 2g: billing and entitlements
-- (stripe_customers, subscriptions, entitlements, stripe_events).
-- Owner service: billing. One customer per user, one subscription row per user (the unique constraints
-- are what keeps parallel checkouts from creating two), every Stripe event stored once.

create table if not exists public.stripe_customers (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  stripe_customer_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint stripe_customers_user_uniq unique (user_id),
  constraint stripe_customers_cust_uniq unique (stripe_customer_id)
);

create table if not exists public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  stripe_subscription_id text,
  state public.subscription_state not null default 'none',
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  grace_until timestamptz,
  last_stripe_event_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint subscriptions_user_uniq unique (user_id),
  -- addition: a Stripe subscription belongs to exactly one user (NULLs, i.e. no subscription yet, allowed)
  constraint subscriptions_stripe_subscription_uniq unique (stripe_subscription_id)
);

create index if not exists subscriptions_state_idx on public.subscriptions(state);

create table if not exists public.entitlements (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  eligible_to_participate boolean not null default false,
  eligible_to_initiate boolean not null default false,
  source text not null default 'stripe',
  effective_at timestamptz not null default now(),
  expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint entitlements_user_uniq unique (user_id)
);

create index if not exists entitlements_participate_idx on public.entitlements(eligible_to_participate);

-- Idempotent webhook ingestion: insert ... on conflict (stripe_event_id) do nothing.
create table if not exists public.stripe_events (
  id uuid primary key default gen_random_uuid(),
  stripe_event_id text not null,
  event_type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  processing_error text,
  constraint stripe_events_event_uniq unique (stripe_event_id)
);

create index if not exists stripe_events_type_idx on public.stripe_events(event_type);
