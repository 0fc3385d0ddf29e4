-- JOSH 2.0 schema, checklist step 2c: conversation and messaging
-- (conversation_sessions, sms_messages, sms_outbound_jobs, message_events).
-- Owners: conversation_sessions -> conversation-router; sms_messages -> inbound-sms (direction 'in') and
-- outbound-sender (direction 'out'); sms_outbound_jobs -> outbound-sender; message_events -> inbound-sms.
-- Message bodies are AES-256-GCM ciphertext only (body_iv = 96-bit nonce, body_tag = GCM tag); the key
-- material never enters the database, only key_version.

create table if not exists public.conversation_sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.users(id) on delete cascade,
  mode public.conversation_mode not null default 'idle',
  state_token text not null default 'idle',
  expires_at timestamptz,
  last_inbound_message_sid text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint conversation_one_per_user unique (user_id)
);

create index if not exists conversation_sessions_mode_idx on public.conversation_sessions(mode);

create table if not exists public.sms_messages (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references public.users(id) on delete set null,
  direction text not null check (direction in ('in','out')),
  from_e164 text not null,
  to_e164 text not null,
  twilio_message_sid text not null,
  body_ciphertext bytea,
  body_iv bytea,
  body_tag bytea,
  key_version int not null default 1,
  media_count int not null default 0,
  status text,
  last_status_at timestamptz,
  correlation_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sms_messages_twilio_sid_uniq unique (twilio_message_sid),
  -- additions
  constraint sms_messages_key_version_positive check (key_version > 0),
  constraint sms_messages_media_count_nonnegative check (media_count >= 0)
);

create index if not exists sms_messages_user_idx on public.sms_messages(user_id);
create index if not exists sms_messages_created_idx on public.sms_messages(created_at);
create index if not exists sms_messages_direction_idx on public.sms_messages(direction);

create table if not exists public.sms_outbound_jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid references public.users(id) on delete set null,
  to_e164 text not null,
  body_ciphertext bytea,
  body_iv bytea,
  body_tag bytea,
  key_version int not null default 1,
  purpose text not null,
  status text not null default 'pending' check (status in ('pending','sent','failed')),
  twilio_message_sid text,
  attempts int not null default 0,
  last_error text,
  correlation_id uuid,
  idempotency_key text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sms_outbound_idem_uniq unique (idempotency_key),
  -- additions
  constraint sms_outbound_jobs_key_version_positive check (key_version > 0),
  constraint sms_outbound_jobs_attempts_nonnegative check (attempts >= 0)
);

create index if not exists sms_outbound_jobs_status_idx on public.sms_outbound_jobs(status);
create index if not exists sms_outbound_jobs_user_idx on public.sms_outbound_jobs(user_id);

-- Audit of normalized message events. user_id deliberately has no foreign key (the document has none):
-- audit rows outlive the user row.
create table if not exists public.message_events (
  id uuid primary key default gen_random_uuid(),
  user_id uuid,
  event_type text not null,
  payload jsonb not null,
  correlation_id uuid,
  created_at timestamptz not null default now()
);

create index if not exists message_events_user_idx on public.message_events(user_id);
create index if not exists message_events_type_idx on public.message_events(event_type);
create index if not exists message_events_created_idx on public.message_events(created_at);
