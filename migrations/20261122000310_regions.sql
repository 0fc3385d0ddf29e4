-- JOSH 2.0 schema, checklist step 2b: regions and waitlist (regions, region_memberships).
-- Owner service: conversation-router. Region rules carry the timezone as rules->>'timezone' (IANA name),
-- used for quiet hours and the 09:00 reminder (product-rules section 8).

create table if not exists public.regions (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique,
  display_name text not null,
  state public.region_state not null default 'waitlisted',
  geometry jsonb not null, -- polygon/zip definitions
  rules jsonb not null default '{}'::jsonb, -- border rules, min density thresholds
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index if not exists regions_state_idx on public.regions(state);

create table if not exists public.region_memberships (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  region_id uuid not null references public.regions(id) on delete restrict,
  status text not null check (status in ('active','waitlisted')),
  joined_at timestamptz not null default now(),
  released_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint region_membership_one_active unique (user_id, status)
);

create index if not exists region_memberships_region_idx on public.region_memberships(region_id);
create index if not exists region_memberships_user_idx on public.region_memberships(user_id);

-- addition: users.region_id has no foreign key in the document only because users is created before
-- regions. A region is never deleted in normal operation; if one is, its users lose the pointer.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_constraint
                 where conrelid = 'public.users'::regclass and conname = 'users_region_id_fkey') then
    alter table public.users
      add constraint users_region_id_fkey foreign key (region_id)
      references public.regions(id) on delete set null;
  end if;
end
$$;
