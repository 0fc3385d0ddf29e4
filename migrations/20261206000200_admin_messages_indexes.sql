-- The admin messages view and export (issue 8): a person's texts are found by user id or by their
-- number, because texts sent before the number became a user carry no user id (inbound-sms:
-- `from_e164`; outbound-sender's messages: `to_e164`). Without these the OR falls back to a scan of
-- every message. Redefines public.josh_schema_version().

create index if not exists sms_messages_in_from_idx
  on public.sms_messages(from_e164, created_at) where direction = 'in';

create index if not exists sms_messages_out_to_idx
  on public.sms_messages(to_e164, created_at) where direction = 'out';

-- Every migration that becomes the newest redefines this to return its own version.
create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206000200::bigint $$;
grant execute on function public.josh_schema_version() to public;
