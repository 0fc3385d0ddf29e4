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

async fn setup() -> Cli {
    let db = TestDb::migrated().await.unwrap();
    sqlx::raw_sql(common::seed::SEED)
        .execute(&db.pool)
        .await
        .unwrap();
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
