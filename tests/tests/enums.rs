//! The enums hold exactly the schema document's labels, in its order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use testkit::TestDb;

const ENUMS: &[(&str, &[&str])] = &[
    (
        "user_state",
        &[
            "unverified",
            "verified",
            "interviewing",
            "active",
            "suspended",
            "deleted",
        ],
    ),
    (
        "profile_state",
        &["empty", "partial", "complete_mvp", "complete_full", "stale"],
    ),
    (
        "conversation_mode",
        &[
            "idle",
            "interviewing",
            "linkup_forming",
            "awaiting_invite_reply",
            "safety_hold",
        ],
    ),
    (
        "linkup_state",
        &[
            "draft",
            "broadcasting",
            "locked",
            "completed",
            "expired",
            "canceled",
        ],
    ),
    (
        "invite_state",
        &["pending", "accepted", "declined", "expired", "closed"],
    ),
    (
        "subscription_state",
        &[
            "none", "trialing", "active", "past_due", "canceled", "unpaid",
        ],
    ),
    ("safety_hold_state", &["none", "soft_hold", "hard_hold"]),
    ("region_state", &["open", "waitlisted", "closed"]),
];

#[tokio::test]
async fn enums_hold_exactly_the_documented_labels_in_order() {
    let db = TestDb::migrated().await.unwrap();
    for (name, labels) in ENUMS {
        let actual: Vec<String> = sqlx::query_scalar(
            "select e.enumlabel::text from pg_enum e join pg_type t on t.oid = e.enumtypid
             where t.typname = $1 and t.typnamespace = 'public'::regnamespace
             order by e.enumsortorder",
        )
        .bind(name)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(actual, *labels, "enum {name}");
    }
}

#[tokio::test]
async fn no_undocumented_enums_exist() {
    let db = TestDb::migrated().await.unwrap();
    let mut actual: Vec<String> = sqlx::query_scalar(
        "select typname::text from pg_type where typtype = 'e'
         and typnamespace = 'public'::regnamespace order by 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut documented: Vec<&str> = ENUMS.iter().map(|(n, _)| *n).collect();
    documented.sort_unstable();
    actual.sort();
    assert_eq!(actual, documented);
}

#[tokio::test]
async fn an_undocumented_label_is_rejected() {
    let db = TestDb::migrated().await.unwrap();
    let result = sqlx::query("select 'banned'::user_state")
        .execute(&db.pool)
        .await;
    assert_eq!(system_tests::sql_state(result).as_deref(), Some("22P02"));
}

#[tokio::test]
async fn every_documented_table_exists() {
    let db = TestDb::migrated().await.unwrap();
    for table in [
        "users",
        "otp_sessions",
        "regions",
        "region_memberships",
        "conversation_sessions",
        "sms_messages",
        "sms_outbound_jobs",
        "message_events",
        "profiles",
        "profile_events",
        "linkups",
        "linkup_invites",
        "linkup_participants",
        "linkup_reminders",
        "linkup_outcomes",
        "contact_exchange_choices",
        "contact_exchanges",
        "stripe_customers",
        "subscriptions",
        "entitlements",
        "stripe_events",
        "safety_holds",
        "safety_incidents",
        "safety_reports",
        "user_blocks",
        "user_strikes",
        "admin_users",
        "admin_audit_log",
        "domain_events",
        "magic_links",
    ] {
        let exists: bool = sqlx::query_scalar("select to_regclass('public.' || $1) is not null")
            .bind(table)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(exists, "table {table} is missing");
    }
}
