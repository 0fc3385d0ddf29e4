//! Every uniqueness rule of the schema document rejects a duplicate, by its documented name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use sqlx::{AssertSqlSafe, PgPool};
use system_tests as fx;
use testkit::TestDb;
use uuid::Uuid;

/// Runs `insert` twice: the first succeeds, the second violates `constraint`.
async fn assert_rejects_duplicate(pool: &PgPool, insert: &str, constraint: &str) {
    sqlx::query(AssertSqlSafe(insert))
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{constraint}: first insert: {e}"));
    let again = sqlx::query(AssertSqlSafe(insert)).execute(pool).await;
    assert_eq!(
        fx::violated_constraint(again),
        Some(constraint.to_owned()),
        "a duplicate should violate {constraint}"
    );
}

struct World {
    db: TestDb,
    a: Uuid,
    b: Uuid,
    region: Uuid,
    linkup: Uuid,
}

async fn world() -> World {
    let db = TestDb::migrated().await.unwrap();
    let a = fx::user(&db.pool).await.unwrap();
    let b = fx::user(&db.pool).await.unwrap();
    let region = fx::region(&db.pool).await.unwrap();
    let linkup = fx::linkup(&db.pool, a, region).await.unwrap();
    World {
        db,
        a,
        b,
        region,
        linkup,
    }
}

#[tokio::test]
async fn messaging_idempotency_keys_are_unique() {
    let w = world().await;
    let p = &w.db.pool;
    assert_rejects_duplicate(
        p,
        "insert into sms_messages (direction, from_e164, to_e164, twilio_message_sid)
         values ('in', '+15550000001', '+15550000002', 'SM00000000000000000000000000000001')",
        "sms_messages_twilio_sid_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        "insert into sms_outbound_jobs (to_e164, purpose, idempotency_key)
         values ('+15550000001', 'reply', 'job-1')",
        "sms_outbound_idem_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        "insert into stripe_events (stripe_event_id, event_type, payload)
         values ('evt_1', 'invoice.paid', '{}')",
        "stripe_events_event_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into profile_events (user_id, event_type, source, payload, idempotency_key)
             values ('{}', 'answer', 'interview', '{{}}', 'pe-1')",
            w.a
        ),
        "profile_events_idem_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        "insert into domain_events (entity_type, entity_id, event_type, idempotency_key)
         values ('linkup', gen_random_uuid(), 'locked', 'de-1')",
        "domain_events_idem_uniq",
    )
    .await;
}

#[tokio::test]
async fn identity_is_unique_per_phone_and_one_row_per_user_where_documented() {
    let w = world().await;
    let p = &w.db.pool;
    assert_rejects_duplicate(
        p,
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                            sms_consent, age_consent, terms_consent, privacy_consent)
         values ('+15551110000', 'h-dup', 'A', 'B', '1990-01-01', true, true, true, true)",
        "users_phone_hash_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into conversation_sessions (user_id) values ('{}')",
            w.a
        ),
        "conversation_one_per_user",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!("insert into profiles (user_id) values ('{}')", w.a),
        "profiles_user_uniq",
    )
    .await;
    for (table, constraint) in [
        ("stripe_customers", "stripe_customers_user_uniq"),
        ("subscriptions", "subscriptions_user_uniq"),
        ("entitlements", "entitlements_user_uniq"),
        ("safety_holds", "safety_holds_user_uniq"),
    ] {
        let columns = if table == "stripe_customers" {
            format!(
                "(user_id, stripe_customer_id) values ('{}', 'cus_' || gen_random_uuid())",
                w.b
            )
        } else {
            format!("(user_id) values ('{}')", w.b)
        };
        assert_rejects_duplicate(p, &format!("insert into {table} {columns}"), constraint).await;
    }
}

#[tokio::test]
async fn the_same_phone_in_another_hash_is_still_one_user() {
    let w = world().await;
    let insert = |hash: &'static str| {
        format!(
            "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                                sms_consent, age_consent, terms_consent, privacy_consent)
             values ('+15552220000', '{hash}', 'A', 'B', '1990-01-01', true, true, true, true)"
        )
    };
    sqlx::query(AssertSqlSafe(insert("h-one")))
        .execute(&w.db.pool)
        .await
        .unwrap();
    let again = sqlx::query(AssertSqlSafe(insert("h-two")))
        .execute(&w.db.pool)
        .await;
    assert_eq!(
        fx::violated_constraint(again).as_deref(),
        Some("users_phone_e164_uniq")
    );
}

#[tokio::test]
async fn linkup_rules_allow_each_fact_once() {
    let w = world().await;
    let p = &w.db.pool;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into linkups (initiator_user_id, region_id, brief, linkup_create_key)
             values ('{}', '{}', '{{}}', 'create-key-1')",
            w.a, w.region
        ),
        "linkups_create_key_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into linkup_invites (linkup_id, invited_user_id, idempotency_key)
             values ('{}', '{}', 'inv-' || gen_random_uuid())",
            w.linkup, w.b
        ),
        "linkup_invites_once",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into linkup_participants (linkup_id, user_id, role)
             values ('{}', '{}', 'participant')",
            w.linkup, w.b
        ),
        "linkup_participants_once",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into linkup_reminders (linkup_id, reminder_type, scheduled_for, idempotency_key)
             values ('{}', 'day_of', now(), 'rem-1')",
            w.linkup
        ),
        "linkup_reminders_idem_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into linkup_outcomes (linkup_id, user_id) values ('{}', '{}')",
            w.linkup, w.b
        ),
        "linkup_outcomes_once",
    )
    .await;
}

#[tokio::test]
async fn an_invite_idempotency_key_is_used_once() {
    let w = world().await;
    let c = fx::user(&w.db.pool).await.unwrap();
    fx::invite(&w.db.pool, w.linkup, w.b).await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "insert into linkup_invites (linkup_id, invited_user_id, idempotency_key)
         values ('{}', '{}', 'same-key')",
        w.linkup, c
    )))
    .execute(&w.db.pool)
    .await
    .unwrap();
    let d = fx::user(&w.db.pool).await.unwrap();
    let again = sqlx::query(AssertSqlSafe(format!(
        "insert into linkup_invites (linkup_id, invited_user_id, idempotency_key)
         values ('{}', '{}', 'same-key')",
        w.linkup, d
    )))
    .execute(&w.db.pool)
    .await;
    assert_eq!(
        fx::violated_constraint(again).as_deref(),
        Some("linkup_invites_idem_uniq")
    );
}

#[tokio::test]
async fn contact_choices_and_exchange_pairs_happen_once() {
    let w = world().await;
    let p = &w.db.pool;
    let (lo, hi) = if w.a.to_string() < w.b.to_string() {
        (w.a, w.b)
    } else {
        (w.b, w.a)
    };
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into contact_exchange_choices (linkup_id, chooser_user_id, target_user_id, choice)
             values ('{}', '{}', '{}', true)",
            w.linkup, w.a, w.b
        ),
        "contact_choice_once",
    )
    .await;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into contact_exchanges (linkup_id, user_a_id, user_b_id)
             values ('{}', '{lo}', '{hi}')",
            w.linkup
        ),
        "contact_exchange_pair_once",
    )
    .await;
}

#[tokio::test]
async fn safety_admin_and_link_rules_hold() {
    let w = world().await;
    let p = &w.db.pool;
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into user_blocks (blocker_user_id, blocked_user_id) values ('{}', '{}')",
            w.a, w.b
        ),
        "user_blocks_once",
    )
    .await;
    assert_rejects_duplicate(
        p,
        "insert into admin_users (email, role) values ('Ops@Josh.Example', 'ops')",
        "admin_users_email_key",
    )
    .await;
    // citext: the same address in other case is the same admin.
    let other_case =
        sqlx::query("insert into admin_users (email, role) values ('ops@josh.example', 'ops')")
            .execute(p)
            .await;
    assert_eq!(
        fx::violated_constraint(other_case).as_deref(),
        Some("admin_users_email_key")
    );
    assert_rejects_duplicate(
        p,
        &format!(
            "insert into magic_links (user_id, token_hash, purpose, expires_at)
             values ('{}', 'tokenhash-1', 'linkup', now() + interval '1 day')",
            w.a
        ),
        "magic_links_token_uniq",
    )
    .await;
    assert_rejects_duplicate(
        p,
        "insert into regions (slug, display_name, geometry) values ('dup-slug', 'Dup', '{}')",
        "regions_slug_key",
    )
    .await;
}
