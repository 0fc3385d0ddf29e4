-- JOSH 2.0 schema, checklist step 2i: admin and audit (admin_users, admin_audit_log, domain_events).
-- admin_users is managed by migrations / ops tooling; every service may append to admin_audit_log (when it
-- performs an admin action) and to domain_events.

create table if not exists public.admin_users (
  id uuid primary key default gen_random_uuid(),
  email citext not null unique,
  role text not null check (role in ('support','ops','engineering')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists public.admin_audit_log (
  id uuid primary key default gen_random_uuid(),
  admin_user_id uuid references public.admin_users(id) on delete set null,
  action text not null,
  target_type text not null,
  target_id uuid,
  reason text,
  payload jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create index if not exists admin_audit_action_idx on public.admin_audit_log(action);
create index if not exists admin_audit_target_idx on public.admin_audit_log(target_type, target_id);

create table if not exists public.domain_events (
  id uuid primary key default gen_random_uuid(),
  entity_type text not null,
  entity_id uuid not null,
  event_type text not null,
  from_state text,
  to_state text,
  idempotency_key text,
  correlation_id uuid,
  payload jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint domain_events_idem_uniq unique (idempotency_key)
);

create index if not exists domain_events_entity_idx on public.domain_events(entity_type, entity_id);
create index if not exists domain_events_created_idx on public.domain_events(created_at);

-- addition: safety_holds.applied_by_admin points at an admin (the document leaves it a bare uuid because
-- admin_users is created later). Removing an admin keeps the hold and forgets who applied it.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.safety_holds'::regclass
                   and conname = 'safety_holds_applied_by_admin_fkey') then
    alter table public.safety_holds
      add constraint safety_holds_applied_by_admin_fkey foreign key (applied_by_admin)
      references public.admin_users(id) on delete set null;
  end if;
end
$$;
