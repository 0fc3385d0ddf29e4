//! Rows several joshctl tests share.

/// Ana's locked coffee LinkUp with Bo and Cy (Di declined), and Bo's paid membership.
pub const SEED: &str = r#"
insert into regions (id, slug, display_name, state, geometry, rules) values
  ('0193a000-0000-7000-8000-0000000000f0', 'sf', 'San Francisco', 'open', '{}',
   '{"timezone": "America/Los_Angeles"}');
insert into users (id, phone_e164, phone_hash, first_name, last_name, birthday, state, sms_consent,
                   age_consent, terms_consent, privacy_consent, region_id)
select id::uuid, phone, 'hash-' || phone, name, 'Tester', '1990-05-17', 'active', true, true, true,
       true, '0193a000-0000-7000-8000-0000000000f0'
  from (values ('0193a000-0000-7000-8000-000000000001', '+15555550501', 'Ana'),
               ('0193a000-0000-7000-8000-000000000002', '+15555550502', 'Bo'),
               ('0193a000-0000-7000-8000-000000000003', '+15555550503', 'Cy'),
               ('0193a000-0000-7000-8000-000000000004', '+15555550504', 'Di')) as p(id, phone, name);
insert into linkups (id, initiator_user_id, region_id, state, brief, acceptance_window_ends_at,
                     event_time, min_size, max_size, locked_at, broadcast_started_at,
                     linkup_create_key)
values ('0193a000-0000-7000-8000-00000000000a', '0193a000-0000-7000-8000-000000000001',
        '0193a000-0000-7000-8000-0000000000f0', 'locked',
        '{"activity_key": "coffee", "activity_name": "Coffee", "timezone": "America/Los_Angeles",
          "location_hint": "near the Mission",
          "options": [{"label": "A", "window": "SAT_MORNING", "starts": 1797094800, "ends": 1797105600}]}',
        '2026-12-11T20:00:00Z', '2026-12-12T17:00:00Z', 2, 3, now(), now() - interval '1 hour',
        'seed-linkup');
insert into linkup_participants (linkup_id, user_id, role) values
  ('0193a000-0000-7000-8000-00000000000a', '0193a000-0000-7000-8000-000000000001', 'initiator'),
  ('0193a000-0000-7000-8000-00000000000a', '0193a000-0000-7000-8000-000000000002', 'participant'),
  ('0193a000-0000-7000-8000-00000000000a', '0193a000-0000-7000-8000-000000000003', 'participant');
insert into linkup_invites (linkup_id, invited_user_id, state, sent_at, responded_at, idempotency_key)
select '0193a000-0000-7000-8000-00000000000a', id::uuid, state::invite_state,
       now() - interval '50 minutes', now() - interval '40 minutes', 'seed-invite-' || id
  from (values ('0193a000-0000-7000-8000-000000000002', 'accepted'),
               ('0193a000-0000-7000-8000-000000000003', 'accepted'),
               ('0193a000-0000-7000-8000-000000000004', 'declined')) as i(id, state);
insert into match_runs (linkup_id, wave_number, run_key, relaxation_level, pool_size, invited_count)
values ('0193a000-0000-7000-8000-00000000000a', 1, 'seed-run', 0, 9, 3);
insert into stripe_customers (user_id, stripe_customer_id)
values ('0193a000-0000-7000-8000-000000000002', 'cus_bo');
insert into subscriptions (user_id, stripe_subscription_id, stripe_customer_id, state,
                           current_period_end, stripe_state_at)
values ('0193a000-0000-7000-8000-000000000002', 'sub_bo', 'cus_bo', 'past_due',
        now() + interval '20 days', now());
insert into entitlements (user_id, eligible_to_participate, eligible_to_initiate, reason, expires_at)
values ('0193a000-0000-7000-8000-000000000002', true, true, 'grace', now() + interval '6 days');
insert into stripe_events (stripe_event_id, event_type, payload, processed_at, processing_error)
values ('evt_bo_1', 'invoice.payment_failed',
        '{"data": {"object": {"object": "invoice", "customer": "cus_bo"}}}', now(), null),
       ('evt_bo_2', 'charge.refunded',
        '{"data": {"object": {"object": "charge", "customer": "cus_bo"}}}', null, 'no such charge');
"#;
