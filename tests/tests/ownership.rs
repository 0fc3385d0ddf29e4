//! Each service's Postgres role writes only the tables it owns and reads only what design.md
//! lists, so a bug in one service cannot corrupt another's state.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, PgPool};
use system_tests as fx;
use testkit::TestDb;

const ALL: &str = "DELETE,INSERT,SELECT,UPDATE";

/// design.md's ownership table, plus the product-rules additions (suppressions, pending SMS
/// registrations, match runs, safety keyword rules) and outbound-sender's paused senders:
/// (role, owned tables, read-only tables).
const MATRIX: &[(&str, &[&str], &[&str])] = &[
    (
        "josh_inbound_sms",
        &["sms_messages", "message_events"],
        &["users"],
    ),
    (
        "josh_conversation_router",
        &[
            "users",
            "otp_sessions",
            "regions",
            "region_memberships",
            "conversation_sessions",
            "profiles",
            "profile_events",
            "safety_holds",
            "safety_incidents",
            "safety_reports",
            "user_blocks",
            "user_strikes",
            "magic_links",
            "sms_registrations",
            "phone_opt_outs",
            "inbound_rate_windows",
            "linkup_requests",
            "http_rate_windows",
        ],
        &[
            "linkups",
            "linkup_participants",
            "activities",
            "safety_keyword_rules",
        ],
    ),
    (
        "josh_linkup_matcher",
        &[
            "linkups",
            "linkup_invites",
            "linkup_participants",
            "linkup_reminders",
            "linkup_outcomes",
            "contact_exchange_choices",
            "contact_exchanges",
            "match_runs",
            "linkup_timers",
        ],
        &[
            "users",
            "profiles",
            "region_memberships",
            "entitlements",
            "safety_holds",
            "user_blocks",
            "regions",
            "activities",
        ],
    ),
    (
        "josh_billing",
        &[
            "stripe_customers",
            "subscriptions",
            "entitlements",
            "stripe_events",
        ],
        &["users"],
    ),
    (
        "josh_outbound_sender",
        &[
            "sms_outbound_jobs",
            "sms_messages",
            "sms_suppressions",
            "sms_sender_pauses",
        ],
        &["users", "regions"],
    ),
];

/// What every service role may do beyond its own tables: the shared event platform (row-owned),
/// appending domain events and audit entries, and reading the admin list.
const SHARED: &[(&str, &str)] = &[
    ("event_outbox", ALL),
    ("event_inbox", ALL),
    ("domain_events", "INSERT"),
    ("admin_audit_log", "INSERT"),
    ("admin_users", "SELECT"),
];

/// Beyond [`SHARED`]: the router's admin API reads the domain event trail for a user's timeline
/// (migration 20261130000400). Admin tokens are checked through `admin_authenticate` (below),
/// never read (migration 20261130000500).
const ADMIN_READS: &[(&str, &str, &str)] =
    &[("josh_conversation_router", "domain_events", "INSERT,SELECT")];

#[tokio::test]
async fn every_service_role_authenticates_admins_through_the_function_only() {
    let db = TestDb::migrated().await.unwrap();
    for (role, _, _) in MATRIX {
        let can_execute: bool = sqlx::query_scalar(
            "select has_function_privilege($1, 'public.admin_authenticate(text)', 'EXECUTE')",
        )
        .bind(role)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(can_execute, "{role} cannot authenticate admins");
        let pool = db.pool_as(role).await.unwrap();
        let read = sqlx::query("select token_sha256 from admin_tokens")
            .execute(&pool)
            .await;
        assert!(read.is_err(), "{role} reads token hashes");
    }
    let anon: bool = sqlx::query_scalar(
        "select has_function_privilege('anon', 'public.admin_authenticate(text)', 'EXECUTE')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(!anon, "anon may not probe tokens");
}

#[tokio::test]
async fn each_service_role_has_exactly_the_designed_table_privileges() {
    let db = TestDb::migrated().await.unwrap();
    for (role, owns, reads) in MATRIX {
        let mut expected: BTreeMap<String, String> = BTreeMap::new();
        for t in *owns {
            expected.insert((*t).to_owned(), ALL.to_owned());
        }
        for t in *reads {
            expected.insert((*t).to_owned(), "SELECT".to_owned());
        }
        for (t, privs) in SHARED {
            expected.insert((*t).to_owned(), (*privs).to_owned());
        }
        for (r, t, privs) in ADMIN_READS {
            if r == role {
                expected.insert((*t).to_owned(), (*privs).to_owned());
            }
        }
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "select c.relname::text,
                    nullif(concat_ws(',',
                      case when has_table_privilege($1, c.oid, 'DELETE') then 'DELETE' end,
                      case when has_table_privilege($1, c.oid, 'INSERT') then 'INSERT' end,
                      case when has_table_privilege($1, c.oid, 'SELECT') then 'SELECT' end,
                      case when has_table_privilege($1, c.oid, 'TRUNCATE') then 'TRUNCATE' end,
                      case when has_table_privilege($1, c.oid, 'UPDATE') then 'UPDATE' end), '')
             from pg_class c
             where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'",
        )
        .bind(role)
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let actual: BTreeMap<String, String> = rows
            .into_iter()
            .filter_map(|(t, p)| p.map(|p| (t, p)))
            .collect();
        assert_eq!(actual, expected, "privileges of {role}");
    }
}

async fn insert_as(pool: &PgPool, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(AssertSqlSafe(sql))
        .execute(pool)
        .await
        .map(|_| ())
}

fn assert_refused(result: Result<(), sqlx::Error>, what: &str) {
    assert_eq!(
        fx::sql_state(result).as_deref(),
        Some("42501"),
        "{what} should be refused"
    );
}

#[tokio::test]
async fn inbound_sms_writes_inbound_messages_only() {
    let db = TestDb::migrated().await.unwrap();
    let role = db.pool_as("josh_inbound_sms").await.unwrap();
    let msg = |dir: &str, sid: &str| {
        format!(
            "insert into sms_messages (direction, from_e164, to_e164, twilio_message_sid)
             values ('{dir}', '+15550000001', '+15550000002', '{sid}')"
        )
    };
    insert_as(&role, &msg("in", "SMin1")).await.unwrap();
    insert_as(
        &role,
        "insert into message_events (event_type, payload) values ('received', '{}')",
    )
    .await
    .unwrap();
    assert_refused(
        insert_as(&role, &msg("out", "SMout1")).await,
        "an outbound row by inbound-sms",
    );
    assert_refused(
        insert_as(&role, "insert into stripe_events (stripe_event_id, event_type, payload) values ('evt', 't', '{}')").await,
        "billing's table written by inbound-sms",
    );
    assert_refused(
        insert_as(&role, "delete from users").await,
        "deleting users by inbound-sms",
    );
}

#[tokio::test]
async fn conversation_router_owns_identity_but_not_linkups() {
    let db = TestDb::migrated().await.unwrap();
    let role = db.pool_as("josh_conversation_router").await.unwrap();
    let user = fx::user(&role).await.unwrap();
    fx::profile(&role, user).await.unwrap();
    let region = fx::region(&role).await.unwrap();
    assert!(
        sqlx::query("select id from linkups")
            .fetch_all(&role)
            .await
            .is_ok()
    );
    assert_refused(
        fx::linkup(&role, user, region)
            .await
            .map(|_| ())
            .map_err(into_sqlx),
        "a LinkUp created by the router",
    );
    assert_refused(
        insert_as(
            &role,
            &format!("insert into entitlements (user_id) values ('{user}')"),
        )
        .await,
        "an entitlement granted by the router",
    );
}

#[tokio::test]
async fn linkup_matcher_owns_linkups_but_not_profiles() {
    let db = TestDb::migrated().await.unwrap();
    let user = fx::user(&db.pool).await.unwrap();
    let region = fx::region(&db.pool).await.unwrap();
    fx::profile(&db.pool, user).await.unwrap();
    let role = db.pool_as("josh_linkup_matcher").await.unwrap();
    let linkup = fx::linkup(&role, user, region).await.unwrap();
    fx::participant(&role, linkup, user, "initiator")
        .await
        .unwrap();
    let profiles: Vec<(uuid::Uuid,)> = sqlx::query_as("select id from profiles")
        .fetch_all(&role)
        .await
        .unwrap();
    assert_eq!(profiles.len(), 1, "the matcher reads profiles");
    assert_refused(
        insert_as(&role, "update profiles set state = 'complete_mvp'").await,
        "a profile changed by the matcher",
    );
    assert_refused(
        insert_as(&role, "select count(*) from sms_messages").await,
        "message bodies read by the matcher",
    );
}

#[tokio::test]
async fn billing_owns_entitlements_but_not_users() {
    let db = TestDb::migrated().await.unwrap();
    let user = fx::user(&db.pool).await.unwrap();
    let role = db.pool_as("josh_billing").await.unwrap();
    insert_as(
        &role,
        &format!(
            "insert into entitlements (user_id, eligible_to_participate) values ('{user}', true)"
        ),
    )
    .await
    .unwrap();
    insert_as(&role, "insert into stripe_events (stripe_event_id, event_type, payload) values ('evt_1', 'x', '{}')")
        .await
        .unwrap();
    assert_refused(
        insert_as(&role, "update users set state = 'active'").await,
        "a user changed by billing",
    );
    assert_refused(
        fx::user(&role).await.map(|_| ()).map_err(into_sqlx),
        "a user created by billing",
    );
}

#[tokio::test]
async fn outbound_sender_writes_jobs_and_outbound_messages_only() {
    let db = TestDb::migrated().await.unwrap();
    let role = db.pool_as("josh_outbound_sender").await.unwrap();
    insert_as(&role, "insert into sms_outbound_jobs (to_e164, purpose, idempotency_key) values ('+15550000001', 'reply', 'k1')")
        .await
        .unwrap();
    insert_as(&role, "insert into sms_messages (direction, from_e164, to_e164, twilio_message_sid) values ('out', '+1555', '+1556', 'SMo')")
        .await
        .unwrap();
    assert_refused(
        insert_as(&role, "insert into sms_messages (direction, from_e164, to_e164, twilio_message_sid) values ('in', '+1555', '+1556', 'SMi')").await,
        "an inbound row by outbound-sender",
    );
    assert_refused(
        insert_as(
            &role,
            "insert into message_events (event_type, payload) values ('x', '{}')",
        )
        .await,
        "inbound-sms's audit table written by outbound-sender",
    );
}

#[tokio::test]
async fn outbox_and_inbox_rows_belong_to_their_service() {
    let db = TestDb::migrated().await.unwrap();
    let billing = db.pool_as("josh_billing").await.unwrap();
    let outbox = |producer: &str| {
        format!(
            "insert into event_outbox (producer, event_id, subject, event_type, idempotency_key, payload)
             values ('{producer}', gen_random_uuid(), 'josh.evt.billing.x', 'x', gen_random_uuid()::text, '\\x00')"
        )
    };
    insert_as(&billing, &outbox("billing")).await.unwrap();
    assert_refused(
        insert_as(&billing, &outbox("linkup-matcher")).await,
        "billing posing as the matcher",
    );
    insert_as(&db.pool, &outbox("linkup-matcher"))
        .await
        .unwrap();
    let visible: Vec<String> = sqlx::query_scalar("select producer from event_outbox")
        .fetch_all(&billing)
        .await
        .unwrap();
    assert_eq!(
        visible,
        ["billing"],
        "billing sees only its own outbox rows"
    );

    let inbox = |consumer: &str| {
        format!(
            "insert into event_inbox (consumer, event_id, event_type) values ('{consumer}', gen_random_uuid(), 'x')"
        )
    };
    insert_as(&billing, &inbox("billing")).await.unwrap();
    assert_refused(
        insert_as(&billing, &inbox("outbound-sender")).await,
        "billing writing another inbox",
    );
}

fn into_sqlx(e: anyhow::Error) -> sqlx::Error {
    match e.downcast::<sqlx::Error>() {
        Ok(e) => e,
        Err(e) => sqlx::Error::Protocol(e.to_string()),
    }
}
