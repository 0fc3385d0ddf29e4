-- The outbox trigger notified one channel for every producer, with the producer as payload: every
-- relay's listening connection received every row's notification (six rows a text) and dropped
-- all but its own; the matcher's and billing's relays woke for each text and did nothing. It now
-- notifies `josh_outbox.<producer>`, which only that producer's relay listens on
-- (`bus::relay::outbox_channel`). A relay of an older release, listening on `josh_outbox`, finds
-- its rows by polling until it is replaced.
-- Redefines public.josh_schema_version().
create or replace function public.event_outbox_notify()
returns trigger language plpgsql as $$
begin
  perform pg_notify('josh_outbox.' || new.producer, '');
  return null;
end $$;

create or replace function public.josh_schema_version()
returns bigint
language sql
immutable
as $$ select 20261206001200::bigint $$;
grant execute on function public.josh_schema_version() to public;
