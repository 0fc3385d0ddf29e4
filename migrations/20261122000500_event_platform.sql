-- Event platform (design.md, "Event bus"): the transactional outbox and inbox shared by all services.
-- Both tables are row-owned per service: a service's role sees and writes only rows whose producer /
-- consumer is its own service name (policies in 20261122000800_service_roles.sql). Service names:
-- 'inbound-sms', 'conversation-router', 'linkup-matcher', 'billing', 'outbound-sender'.

-- Outbox: a state change and the events it causes commit in one transaction; the service's relay
-- publishes unpublished rows in id order to NATS JetStream (Nats-Msg-Id = idempotency_key), then sets
-- published_at. Several relay replicas are safe with `for update skip locked`.
create table if not exists public.event_outbox (
  id bigint generated always as identity primary key,
  producer text not null,               -- service name, e.g. 'inbound-sms'
  event_id uuid not null unique,        -- Envelope.event_id (UUIDv7)
  subject text not null,                -- e.g. 'josh.evt.sms.received', 'josh.cmd.outbound.send_sms'
  event_type text not null,
  idempotency_key text not null,
  payload bytea not null,               -- encoded protobuf Envelope (never a plaintext SMS body)
  headers jsonb not null default '{}',  -- e.g. traceparent
  created_at timestamptz not null default now(),
  published_at timestamptz,
  attempts int not null default 0,
  last_error text,
  unique (producer, idempotency_key),
  constraint event_outbox_producer_format check (producer ~ '^[a-z][a-z0-9-]*$'),
  constraint event_outbox_attempts_nonnegative check (attempts >= 0),
  constraint event_outbox_headers_is_object check (jsonb_typeof(headers) = 'object')
);

-- What the relay polls: unpublished rows in id order.
create index if not exists event_outbox_unpublished_idx on public.event_outbox(id) where published_at is null;
-- What the pruning job deletes by.
create index if not exists event_outbox_published_at_idx on public.event_outbox(published_at);

-- Wake the relays: NOTIFY josh_outbox with the producer as payload. Identical notifications in one
-- transaction are folded into one by Postgres, and all are delivered only at commit.
create or replace function public.event_outbox_notify()
returns trigger language plpgsql as $$
begin
  perform pg_notify('josh_outbox', new.producer);
  return null;
end $$;

create or replace trigger event_outbox_notify after insert on public.event_outbox
  for each row execute function public.event_outbox_notify();

-- Inbox: a consumer records the event_id it handled in the same transaction as its effects
-- (insert ... on conflict do nothing; zero rows inserted = already handled, skip).
create table if not exists public.event_inbox (
  consumer text not null,               -- service name
  event_id uuid not null,
  event_type text not null,
  handled_at timestamptz not null default now(),
  primary key (consumer, event_id),
  constraint event_inbox_consumer_format check (consumer ~ '^[a-z][a-z0-9-]*$')
);

-- What the pruning job deletes by (keep well beyond JetStream's redelivery horizon).
create index if not exists event_inbox_handled_at_idx on public.event_inbox(handled_at);
