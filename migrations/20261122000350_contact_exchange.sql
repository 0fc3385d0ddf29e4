-- JOSH 2.0 schema, checklist step 2f: contact exchange (contact_exchange_choices, contact_exchanges).
-- Owner service: linkup-matcher.

create table if not exists public.contact_exchange_choices (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  chooser_user_id uuid not null references public.users(id) on delete cascade,
  target_user_id uuid not null references public.users(id) on delete cascade,
  choice boolean not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint contact_choice_once unique (linkup_id, chooser_user_id, target_user_id),
  -- addition: nobody chooses themselves
  constraint contact_choice_not_self check (chooser_user_id <> target_user_id)
);

create index if not exists contact_choices_chooser_idx on public.contact_exchange_choices(chooser_user_id);

-- Created only when both parties chose yes.
create table if not exists public.contact_exchanges (
  id uuid primary key default gen_random_uuid(),
  linkup_id uuid not null references public.linkups(id) on delete cascade,
  user_a_id uuid not null references public.users(id) on delete cascade,
  user_b_id uuid not null references public.users(id) on delete cascade,
  revealed_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint contact_exchange_pair_once unique (linkup_id, user_a_id, user_b_id),
  -- addition: the document's canonical-order rule, enforced. uuid comparison is byte order, which is the
  -- same order as the lower-case hex text and as Rust's Uuid Ord, so (a, b) and (b, a) can't both exist.
  constraint contact_exchange_canonical_order check (user_a_id < user_b_id)
);

-- addition: "my exchanges" lookups by either side (the unique index only serves linkup_id-first queries).
create index if not exists contact_exchanges_user_a_idx on public.contact_exchanges(user_a_id);
create index if not exists contact_exchanges_user_b_idx on public.contact_exchanges(user_b_id);
