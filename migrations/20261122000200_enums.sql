-- JOSH 2.0 schema, checklist step 1: the eight enum types, labels exactly as in the schema document and in
-- its order (enum order is significant for comparisons, e.g. profile_state >= 'complete_mvp').
-- Each is created only when missing so a re-apply is harmless.

do $$
begin
  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'user_state') then
    create type public.user_state as enum (
      'unverified',
      'verified',
      'interviewing',
      'active',
      'suspended',
      'deleted'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'profile_state') then
    create type public.profile_state as enum (
      'empty',
      'partial',
      'complete_mvp',
      'complete_full',
      'stale'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'conversation_mode') then
    create type public.conversation_mode as enum (
      'idle',
      'interviewing',
      'linkup_forming',
      'awaiting_invite_reply',
      'safety_hold'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'linkup_state') then
    create type public.linkup_state as enum (
      'draft',
      'broadcasting',
      'locked',
      'completed',
      'expired',
      'canceled'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'invite_state') then
    create type public.invite_state as enum (
      'pending',
      'accepted',
      'declined',
      'expired',
      'closed'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'subscription_state') then
    create type public.subscription_state as enum (
      'none',
      'trialing',
      'active',
      'past_due',
      'canceled',
      'unpaid'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'safety_hold_state') then
    create type public.safety_hold_state as enum (
      'none',
      'soft_hold',
      'hard_hold'
    );
  end if;

  if not exists (select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'public' and t.typname = 'region_state') then
    create type public.region_state as enum (
      'open',
      'waitlisted',
      'closed'
    );
  end if;
end
$$;
