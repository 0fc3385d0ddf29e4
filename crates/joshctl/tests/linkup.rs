//! `joshctl linkup show|list|cancel` and `joshctl billing show` against linkup-matcher's and
//! billing's admin APIs (and the router's, which resolves a phone number) served in-process on
//! port 0 over a real database: readable tables, `--json`, clear refusals, audit rows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use admin_auth::testing;
use common::{Cli, stderr, stdout};
use testkit::TestDb;

const LINKUP: &str = "0193a000-0000-7000-8000-00000000000a";
const ANA: &str = "+15555550501";
const BO: &str = "+15555550502";

/// Ana's locked coffee LinkUp with Bo and Cy (Di declined), and Bo's paid membership.
const SEED: &str = r#"
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

async fn setup() -> Cli {
    let db = TestDb::migrated().await.unwrap();
    sqlx::raw_sql(SEED).execute(&db.pool).await.unwrap();
    let router = common::serve_router(&db).await;
    let matcher = common::serve_matcher(&db).await;
    let billing = common::serve_billing(&db).await;
    Cli::new(db)
        .with("ROUTER_ADMIN_URL", &router.url)
        .with("MATCHER_ADMIN_URL", &matcher.url)
        .with("BILLING_ADMIN_URL", &billing.url)
}

/// `(action, outcome)` of every audit row, oldest first.
async fn audited(cli: &Cli) -> Vec<(String, String)> {
    sqlx::query_as(
        "select action, coalesce(payload->>'outcome', 'ok') from admin_audit_log
          order by created_at, id",
    )
    .fetch_all(&cli.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn linkup_show_and_list_print_tables_and_json_for_a_phone_or_an_id() {
    let cli = setup().await;
    let support = cli.token("support@josh.example", "support").await;

    let table = cli.run(Some(&support), &["linkup", "show", LINKUP]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    let table = stdout(&table);
    for expected in [
        "state      locked",
        "Coffee",
        "SAT_MORNING",
        "MEMBER",
        "INVITEE",
        "declined",
    ] {
        assert!(table.contains(expected), "{expected:?} in\n{table}");
    }
    let json = cli
        .run(Some(&support), &["linkup", "show", LINKUP, "--json"])
        .await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(json["state"], "locked");
    assert_eq!(json["initiator"]["first_name"], "Ana");
    assert_eq!(json["members"].as_array().unwrap().len(), 3);
    assert_eq!(json["invites"].as_array().unwrap().len(), 3);
    assert_eq!(json["waves"][0]["pool_size"], 9);

    let listed = cli
        .run(Some(&support), &["linkup", "list", BO, "--json"])
        .await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(listed[0]["linkup_id"], LINKUP);
    assert_eq!(listed[0]["relation"], "participant");
    let by_id = cli
        .run(
            Some(&support),
            &["linkup", "list", "0193a000-0000-7000-8000-000000000001"],
        )
        .await;
    assert!(stdout(&by_id).contains("initiator"), "{}", stderr(&by_id));
    let nobody = cli
        .run(Some(&support), &["linkup", "list", "+15555550599"])
        .await;
    assert!(stderr(&nobody).contains("not found"), "{}", stderr(&nobody));

    let anonymous = cli.run(None, &["linkup", "show", LINKUP]).await;
    assert!(
        stderr(&anonymous).contains("JOSH_ADMIN_TOKEN is missing"),
        "{}",
        stderr(&anonymous)
    );
    let unknown = cli
        .run(
            Some(&support),
            &["linkup", "show", "0193a000-0000-7000-8000-0000000000ff"],
        )
        .await;
    assert!(
        stderr(&unknown).contains("not found"),
        "{}",
        stderr(&unknown)
    );
    let actions: Vec<String> = audited(&cli).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        actions,
        [
            "linkup.show",
            "linkup.show",
            "user.timeline",
            "linkup.list",
            "user.timeline",
            "linkup.list"
        ],
        "every lookup of a person (by phone or id) is the router's audited timeline view"
    );
}

#[tokio::test]
async fn linkup_cancel_needs_ops_and_a_reason_texts_the_group_and_refuses_a_second_time() {
    let cli = setup().await;
    let support = cli.token("support@josh.example", "support").await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let cancel = ["linkup", "cancel", LINKUP, "--reason", "venue closed"];

    let denied = cli.run(Some(&support), &cancel).await;
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );
    let no_reason = cli.run(Some(&ops), &["linkup", "cancel", LINKUP]).await;
    assert!(!no_reason.status.success(), "--reason is required");
    let done = cli.run(Some(&ops), &cancel).await;
    assert!(
        stdout(&done).contains("is canceled (was locked); 3 person(s) texted"),
        "{}{}",
        stdout(&done),
        stderr(&done)
    );
    let texts: i64 = sqlx::query_scalar(
        "select count(*) from event_outbox where event_type = 'outbound.send_sms'",
    )
    .fetch_one(&cli.db.pool)
    .await
    .unwrap();
    assert_eq!(texts, 3, "Ana, Bo and Cy, once each");

    let again = cli
        .run(
            Some(&ops),
            &["linkup", "cancel", LINKUP, "--reason", "again", "--json"],
        )
        .await;
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("refused: the LinkUp is canceled"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        audited(&cli).await,
        [
            ("linkup.cancel".to_owned(), "denied".to_owned()),
            ("linkup.cancel".to_owned(), "ok".to_owned()),
            ("linkup.cancel".to_owned(), "refused".to_owned()),
        ]
    );
}

#[tokio::test]
async fn billing_show_prints_the_membership_its_grace_and_failed_events() {
    let cli = setup().await;
    let support = cli.token("support@josh.example", "support").await;

    let table = cli.run(Some(&support), &["billing", "show", BO]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    let table = stdout(&table);
    for expected in [
        "cus_bo",
        "sub_bo",
        "past_due",
        "eligible (grace) until",
        "FAILED EVENT",
        "no such charge",
    ] {
        assert!(table.contains(expected), "{expected:?} in\n{table}");
    }
    let json = cli
        .run(
            Some(&support),
            &[
                "billing",
                "show",
                "0193a000-0000-7000-8000-000000000002",
                "--json",
            ],
        )
        .await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(json["stripe_customer_id"], "cus_bo");
    assert_eq!(json["subscriptions"][0]["status"], "past_due");
    assert_eq!(json["entitlement"]["reason"], "grace");
    assert_eq!(json["events"].as_array().unwrap().len(), 2);
    assert_eq!(json["failed_events"][0]["stripe_event_id"], "evt_bo_2");
    let none = cli.run(Some(&support), &["billing", "show", ANA]).await;
    assert!(stdout(&none).contains("never decided"), "{}", stdout(&none));

    let anonymous = cli.run(None, &["billing", "show", BO]).await;
    assert!(
        stderr(&anonymous).contains("JOSH_ADMIN_TOKEN is missing"),
        "{}",
        stderr(&anonymous)
    );
    let shown = testing::audit_rows(&cli.db.pool, "billing.show").await;
    assert_eq!(shown.len(), 3, "{shown:?}");
}
