-- Service roles (design.md, "Services, and the tables each one owns"): each service connects as a login
-- user that is a member of its NOLOGIN group role below, and may write only the tables it owns.
--
--   role                       service               owns (SELECT, INSERT, UPDATE, DELETE)          reads (SELECT)
--   josh_inbound_sms           inbound-sms           sms_messages (direction 'in'), message_events  users
--   josh_conversation_router   conversation-router   users, otp_sessions, regions, region_memberships, linkups, linkup_participants,
--                                                    conversation_sessions, profiles, profile_events, activities (*)
--                                                    safety_holds, safety_incidents, safety_reports,
--                                                    user_blocks, user_strikes, magic_links
--   josh_linkup_matcher        linkup-matcher        linkups, linkup_invites, linkup_participants,  users, profiles, region_memberships,
--                                                    linkup_reminders, linkup_outcomes,             entitlements, safety_holds, user_blocks,
--                                                    contact_exchange_choices, contact_exchanges    regions (*), activities (*)
--   josh_billing               billing               stripe_customers, subscriptions,               users
--                                                    entitlements, stripe_events
--   josh_outbound_sender       outbound-sender       sms_outbound_jobs, sms_messages (direction     users, regions (*)
--                                                    'out')
--   (*) additions to design.md's table:
--       - linkup-matcher reads regions: a LinkUp may only form in an open region, and the region's
--         timezone (rules->>'timezone') places the 09:00 reminder and the event-day windows.
--       - outbound-sender reads regions: quiet hours (21:00-08:00) are in the recipient region's timezone.
--       - conversation-router and linkup-matcher read activities: the catalog the parser and the matcher
--         resolve activity keys and aliases against.
--
-- Every service role also: USAGE on schema public; SELECT, INSERT, UPDATE, DELETE on event_outbox and
-- event_inbox (only rows whose producer / consumer is its own service name) and USAGE on the outbox id
-- sequence; INSERT on domain_events and admin_audit_log; SELECT on admin_users. Nothing else.
--
-- RLS is on for every table, so every grant is paired with a policy:
--   svc_owns_<table>_<role>     for all    using (<row filter>) with check (<row filter>)
--   svc_reads_<table>_<role>    for select using (true)
--   svc_inserts_<table>_<role>  for insert with check (true)      (domain_events, admin_audit_log)
-- The grants below are rebuilt from scratch on every apply (revoke all, then grant), so re-applying this
-- file converges each role to exactly this list.

-- ---------------------------------------------------------------------------------------------------------
-- The roles. Cluster-global: many databases on one server may be migrated concurrently, so check first and
-- treat losing the creation race (duplicate_object, or unique_violation on pg_authid) as success.
-- ---------------------------------------------------------------------------------------------------------
do $$
declare
  r text;
begin
  foreach r in array array['josh_inbound_sms', 'josh_conversation_router', 'josh_linkup_matcher',
                           'josh_billing', 'josh_outbound_sender'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      begin
        execute format('create role %I nologin', r);
      exception when duplicate_object or unique_violation then
        null; -- created by a concurrent migration of another database
      end;
    end if;
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- Grants and policies, from one mapping.
-- ---------------------------------------------------------------------------------------------------------
do $$
declare
  svc record;
  m record;
  pol text;
begin
  -- role -> service name (the producer / consumer value in event_outbox / event_inbox)
  for svc in
    select * from (values
      ('josh_inbound_sms',         'inbound-sms'),
      ('josh_conversation_router', 'conversation-router'),
      ('josh_linkup_matcher',      'linkup-matcher'),
      ('josh_billing',             'billing'),
      ('josh_outbound_sender',     'outbound-sender')
    ) as s(role_name, service_name)
  loop
    -- Start from nothing in this schema, then grant exactly the list.
    execute format('revoke all on all tables in schema public from %I', svc.role_name);
    execute format('revoke all on all sequences in schema public from %I', svc.role_name);
    execute format('grant usage on schema public to %I', svc.role_name);

    -- Outbox / inbox: own rows only.
    execute format('grant select, insert, update, delete on public.event_outbox, public.event_inbox to %I',
                   svc.role_name);
    execute format('grant usage on sequence public.event_outbox_id_seq to %I', svc.role_name);

    pol := format('svc_owns_event_outbox_%s', svc.role_name);
    execute format('drop policy if exists %I on public.event_outbox', pol);
    execute format('create policy %I on public.event_outbox for all to %I using (producer = %L) with check (producer = %L)',
                   pol, svc.role_name, svc.service_name, svc.service_name);

    pol := format('svc_owns_event_inbox_%s', svc.role_name);
    execute format('drop policy if exists %I on public.event_inbox', pol);
    execute format('create policy %I on public.event_inbox for all to %I using (consumer = %L) with check (consumer = %L)',
                   pol, svc.role_name, svc.service_name, svc.service_name);

    -- Audit trails: append only.
    execute format('grant insert on public.domain_events, public.admin_audit_log to %I', svc.role_name);
    pol := format('svc_inserts_domain_events_%s', svc.role_name);
    execute format('drop policy if exists %I on public.domain_events', pol);
    execute format('create policy %I on public.domain_events for insert to %I with check (true)', pol, svc.role_name);
    pol := format('svc_inserts_admin_audit_log_%s', svc.role_name);
    execute format('drop policy if exists %I on public.admin_audit_log', pol);
    execute format('create policy %I on public.admin_audit_log for insert to %I with check (true)', pol, svc.role_name);

    -- Admin directory: read only (to attribute admin actions).
    execute format('grant select on public.admin_users to %I', svc.role_name);
    pol := format('svc_reads_admin_users_%s', svc.role_name);
    execute format('drop policy if exists %I on public.admin_users', pol);
    execute format('create policy %I on public.admin_users for select to %I using (true)', pol, svc.role_name);
  end loop;

  -- Table ownership (design.md) and reads. row_filter restricts an owner to its share of a shared table.
  for m in
    select * from (values
      -- inbound-sms
      ('josh_inbound_sms', 'sms_messages',             'owns',  'direction = ''in'''),
      ('josh_inbound_sms', 'message_events',           'owns',  'true'),
      ('josh_inbound_sms', 'users',                    'reads', 'true'),
      -- conversation-router
      ('josh_conversation_router', 'users',                 'owns',  'true'),
      ('josh_conversation_router', 'otp_sessions',          'owns',  'true'),
      ('josh_conversation_router', 'regions',               'owns',  'true'),
      ('josh_conversation_router', 'region_memberships',    'owns',  'true'),
      ('josh_conversation_router', 'conversation_sessions', 'owns',  'true'),
      ('josh_conversation_router', 'profiles',              'owns',  'true'),
      ('josh_conversation_router', 'profile_events',        'owns',  'true'),
      ('josh_conversation_router', 'safety_holds',          'owns',  'true'),
      ('josh_conversation_router', 'safety_incidents',      'owns',  'true'),
      ('josh_conversation_router', 'safety_reports',        'owns',  'true'),
      ('josh_conversation_router', 'user_blocks',           'owns',  'true'),
      ('josh_conversation_router', 'user_strikes',          'owns',  'true'),
      ('josh_conversation_router', 'magic_links',           'owns',  'true'),
      ('josh_conversation_router', 'linkups',               'reads', 'true'),
      ('josh_conversation_router', 'linkup_participants',   'reads', 'true'),
      ('josh_conversation_router', 'activities',            'reads', 'true'),  -- addition (see header)
      -- linkup-matcher
      ('josh_linkup_matcher', 'linkups',                  'owns',  'true'),
      ('josh_linkup_matcher', 'linkup_invites',           'owns',  'true'),
      ('josh_linkup_matcher', 'linkup_participants',      'owns',  'true'),
      ('josh_linkup_matcher', 'linkup_reminders',         'owns',  'true'),
      ('josh_linkup_matcher', 'linkup_outcomes',          'owns',  'true'),
      ('josh_linkup_matcher', 'contact_exchange_choices', 'owns',  'true'),
      ('josh_linkup_matcher', 'contact_exchanges',        'owns',  'true'),
      ('josh_linkup_matcher', 'users',                    'reads', 'true'),
      ('josh_linkup_matcher', 'profiles',                 'reads', 'true'),
      ('josh_linkup_matcher', 'region_memberships',       'reads', 'true'),
      ('josh_linkup_matcher', 'entitlements',             'reads', 'true'),
      ('josh_linkup_matcher', 'safety_holds',             'reads', 'true'),
      ('josh_linkup_matcher', 'user_blocks',              'reads', 'true'),
      ('josh_linkup_matcher', 'regions',                  'reads', 'true'),  -- addition (see header)
      ('josh_linkup_matcher', 'activities',               'reads', 'true'),  -- addition (see header)
      -- billing
      ('josh_billing', 'stripe_customers', 'owns',  'true'),
      ('josh_billing', 'subscriptions',    'owns',  'true'),
      ('josh_billing', 'entitlements',     'owns',  'true'),
      ('josh_billing', 'stripe_events',    'owns',  'true'),
      ('josh_billing', 'users',            'reads', 'true'),
      -- outbound-sender
      ('josh_outbound_sender', 'sms_outbound_jobs', 'owns',  'true'),
      ('josh_outbound_sender', 'sms_messages',      'owns',  'direction = ''out'''),
      ('josh_outbound_sender', 'users',             'reads', 'true'),
      ('josh_outbound_sender', 'regions',           'reads', 'true')   -- addition (see header)
    ) as t(role_name, table_name, access, row_filter)
  loop
    if m.access = 'owns' then
      execute format('grant select, insert, update, delete on public.%I to %I', m.table_name, m.role_name);
      pol := format('svc_owns_%s_%s', m.table_name, m.role_name);
      execute format('drop policy if exists %I on public.%I', pol, m.table_name);
      execute format('create policy %I on public.%I for all to %I using (%s) with check (%s)',
                     pol, m.table_name, m.role_name, m.row_filter, m.row_filter);
    else
      execute format('grant select on public.%I to %I', m.table_name, m.role_name);
      pol := format('svc_reads_%s_%s', m.table_name, m.role_name);
      execute format('drop policy if exists %I on public.%I', pol, m.table_name);
      execute format('create policy %I on public.%I for select to %I using (true)',
                     pol, m.table_name, m.role_name);
    end if;
  end loop;
end
$$;
