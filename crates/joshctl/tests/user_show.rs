//! `joshctl user show` against all five admin APIs served in-process on port 0 over one real
//! database: a header block per service and one merged time-ordered list, `--json` keyed by
//! service, no message body anywhere, and a service that cannot be reached named while the rest
//! is still shown (exit 3).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use admin_auth::testing;
use common::{Cli, stderr, stdout};
use testkit::TestDb;

const BO: &str = "+15555550502";
const BO_ID: &str = "0193a000-0000-7000-8000-000000000002";
const JOSH: &str = "+15005550006";
const KEYS: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/// Nothing listens on the discard port: a service "down".
const NOWHERE: &str = "http://127.0.0.1:9";

/// Bo (common::seed: a LinkUp, a subscription, an entitlement, two Stripe events) also got
/// activated, texted JOSH once and was answered once; bodies purged, so none could show.
const BO_MORE: &str = r#"
insert into domain_events (entity_type, entity_id, event_type, from_state, to_state, idempotency_key,
                           created_at)
values ('user', '0193a000-0000-7000-8000-000000000002', 'activated', 'verified', 'interviewing',
        'seed-activated', now() - interval '3 hours');
insert into sms_messages (user_id, direction, from_e164, to_e164, twilio_message_sid, status, created_at)
values ('0193a000-0000-7000-8000-000000000002', 'in', '+15555550502', '+15005550006',
        'SMbo0000000000000000000000000000in', 'received', now() - interval '2 hours');
insert into sms_outbound_jobs (user_id, to_e164, phone_hash, purpose, status, twilio_message_sid,
                               delivery_status, sender, idempotency_key, created_at)
values ('0193a000-0000-7000-8000-000000000002', '+15555550502', 'hash-+15555550502', 'reply',
        'sent', 'SMbo000000000000000000000000000out', 'delivered', '+15005550006', 'seed-out',
        now() - interval '119 minutes');
"#;

async fn setup() -> Cli {
    let db = TestDb::migrated().await.unwrap();
    sqlx::raw_sql(common::seed::SEED)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::raw_sql(BO_MORE).execute(&db.pool).await.unwrap();
    let keyring = || crypto::Keyring::from_config(KEYS, "1").unwrap();
    let router = common::serve_router(&db).await;
    let matcher = common::serve_matcher(&db).await;
    let billing = common::serve_billing(&db).await;
    let inbound = common::serve_inbound(&db, keyring()).await;
    let sender = common::serve_sender(&db, keyring(), JOSH).await;
    Cli::new(db)
        .with("ROUTER_ADMIN_URL", &router.url)
        .with("MATCHER_ADMIN_URL", &matcher.url)
        .with("BILLING_ADMIN_URL", &billing.url)
        .with("INBOUND_ADMIN_URL", &inbound.url)
        .with("SENDER_ADMIN_URL", &sender.url)
}

/// The merged list's rows: (service, what), in printed order.
fn merged(table: &str) -> Vec<(String, String)> {
    table
        .lines()
        .skip_while(|l| !l.starts_with("AT "))
        .skip(1)
        .map(|l| {
            let (_at, rest) = l.split_once(' ').unwrap();
            let (service, what) = rest.trim_start().split_once(' ').unwrap();
            (service.to_owned(), what.trim().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn user_show_merges_every_service_in_time_order() {
    let cli = setup().await;
    let support = cli.token("support@josh.example", "support").await;

    let shown = cli.run(Some(&support), &["user", "show", BO]).await;
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let table = stdout(&shown);
    for block in [
        "== conversation-router ==\nuser       0193a000-0000-7000-8000-000000000002\nstate      active",
        "== linkup-matcher ==\nlinkups    1 shown (0 started, 1 joined, 0 invited)",
        "== billing ==\ncustomer   cus_bo\nmember     eligible (grace)",
        "== inbound-sms ==\ntexts      1 shown",
        "== outbound-sender ==\ntexts      1 shown",
    ] {
        assert!(table.contains(block), "{block:?} missing from:\n{table}");
    }
    let rows = merged(&table);
    let services: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(
        &services[..3],
        ["conversation-router", "inbound-sms", "outbound-sender"],
        "oldest first: activated 3 h ago, texts 2 h ago: {rows:?}"
    );
    for (service, what) in [
        (
            "conversation-router",
            "activated (verified -> interviewing)",
        ),
        ("inbound-sms", "text in, received SMbo"),
        ("outbound-sender", "text out (reply), sent/delivered SMbo"),
        ("linkup-matcher", "as participant: locked"),
        (
            "billing",
            "Stripe charge.refunded evt_bo_2 (failed: no such charge)",
        ),
        (
            "billing",
            "Stripe invoice.payment_failed evt_bo_1 (applied)",
        ),
    ] {
        assert!(
            rows.iter().any(|(s, w)| s == service && w.contains(what)),
            "{service}: {what:?} missing from {rows:?}"
        );
    }

    let json = cli
        .run(Some(&support), &["user", "show", BO_ID, "--json"])
        .await;
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "billing",
            "conversation-router",
            "inbound-sms",
            "linkup-matcher",
            "outbound-sender"
        ]
    );
    assert_eq!(doc["conversation-router"]["user_id"], BO_ID);
    assert_eq!(
        doc["linkup-matcher"]["linkups"][0]["relation"],
        "participant"
    );
    assert_eq!(doc["billing"]["stripe_customer_id"], "cus_bo");
    assert_eq!(doc["inbound-sms"]["messages"][0]["direction"], "in");
    assert_eq!(doc["outbound-sender"]["messages"][0]["purpose"], "reply");
    assert!(
        !stdout(&json).contains("\"body\""),
        "metadata only: {}",
        stdout(&json)
    );

    let audited = |action: &'static str| {
        let pool = cli.db.pool.clone();
        async move { testing::audit_rows(&pool, action).await.len() }
    };
    assert_eq!(audited("user.timeline").await, 2, "each show is audited");
    assert_eq!(audited("linkup.list").await, 2);
    assert_eq!(audited("billing.show").await, 2);
    assert_eq!(audited("messages.inbound").await, 2);
    assert_eq!(audited("messages.outbound").await, 2);
}

#[tokio::test]
async fn a_service_that_cannot_be_reached_is_named_and_the_rest_still_shows() {
    let cli = setup().await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let down = [("BILLING_ADMIN_URL", NOWHERE)];

    let partial = cli.run_env(Some(&ops), &["user", "show", BO], &down).await;
    assert_eq!(partial.status.code(), Some(3), "{}", stderr(&partial));
    let table = stdout(&partial);
    assert!(
        table.contains(
            "== billing ==\nNOT AVAILABLE: cannot reach the admin API at http://127.0.0.1:9"
        ),
        "{table}"
    );
    assert!(
        table.contains("== linkup-matcher ==\nlinkups    1 shown"),
        "{table}"
    );
    assert!(
        merged(&table).iter().all(|(s, _)| s != "billing"),
        "{table}"
    );
    assert!(
        merged(&table).iter().any(|(s, _)| s == "outbound-sender"),
        "{table}"
    );
    let warned = stderr(&partial);
    assert!(
        warned.contains(
            "warning: billing did not answer (cannot reach the admin API at http://127.0.0.1:9)"
        ),
        "{warned}"
    );
    assert!(warned.contains("4 of 5 services answered"), "{warned}");

    let json = cli
        .run_env(Some(&ops), &["user", "show", BO, "--json"], &down)
        .await;
    assert_eq!(json.status.code(), Some(3));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert!(
        doc["billing"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach"),
        "{doc}"
    );
    assert_eq!(
        doc["linkup-matcher"]["linkups"][0]["relation"],
        "participant"
    );

    let router_down = [("ROUTER_ADMIN_URL", NOWHERE)];
    let by_phone = cli
        .run_env(Some(&ops), &["user", "show", BO], &router_down)
        .await;
    assert_eq!(by_phone.status.code(), Some(1), "a phone needs the router");
    assert!(
        stderr(&by_phone).contains("cannot reach the admin API"),
        "{}",
        stderr(&by_phone)
    );
    let by_id = cli
        .run_env(Some(&ops), &["user", "show", BO_ID], &router_down)
        .await;
    assert_eq!(by_id.status.code(), Some(3), "{}", stderr(&by_id));
    assert!(
        stdout(&by_id).contains("== conversation-router ==\nNOT AVAILABLE"),
        "{}",
        stdout(&by_id)
    );
    assert!(stdout(&by_id).contains("customer   cus_bo"));
}
