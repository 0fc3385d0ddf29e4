-- Billing additions (issue 7): what billing needs to derive entitlements from the newest Stripe truth.
-- Owner service: billing. Columns only; grants and RLS policies of these tables already cover them.

-- The Stripe time (event `created`) of the subscription snapshot applied last: an older snapshot never
-- overwrites a newer one, whatever order Stripe delivers events in.
alter table public.subscriptions add column if not exists stripe_state_at timestamptz;
-- A completed checkout counts as entitled until then, while the subscription events are on their way.
alter table public.subscriptions add column if not exists checkout_pending_until timestamptz;
-- A refund or dispute revoked access at this Stripe time; only a newer subscription lifts it.
alter table public.subscriptions add column if not exists revoked_at timestamptz;
-- The Stripe `created` of the subscription: a newer subscription supersedes an older one.
alter table public.subscriptions add column if not exists stripe_subscription_created_at timestamptz;
-- The user's newest Checkout Session (cs_...): reused while open, so a member never holds two payable
-- checkouts at once (parallel or repeated requests), which could start two subscriptions.
alter table public.subscriptions add column if not exists checkout_session_id text;
-- The Stripe customer of the subscription (for reconciliation and portal links).
alter table public.subscriptions add column if not exists stripe_customer_id text;

-- Why the entitlement is what it is (EntitlementReason in proto/josh/events/v1/billing.proto, snake case).
alter table public.entitlements add column if not exists reason text not null default 'no_subscription';

-- Failed events are retried from here: every stored event not yet processed.
create index if not exists stripe_events_unprocessed_idx on public.stripe_events(received_at)
  where processed_at is null;

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261130000200::bigint $$;
grant execute on function public.josh_schema_version() to public;
