//! DELETE reaches every service: after a person deletes their account, their phone number,
//! names and message bodies are in no table, and what stays is what the retention rules allow
//! (metadata of their texts, the Stripe ids accounting needs, the soft-deleted users row).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod stack;

use stack::Stack;
use time::Duration;

const ANSWERS: &[&str] = &[
    "coffee, walk, brunch",
    "coffee",
    "a",
    "b",
    "ideas",
    "b",
    "b",
    "a",
    "skip",
    "a and d",
];

const ZOE: &str = "+15555550401";
const FIRST: &str = "Zoraida";
const LAST: &str = "Quillfeather";
const EMAIL: &str = "zoraida.q@example.com";

/// What must be found nowhere: the number (also without its +1), the names and the email
/// Stripe collected, as text and as the hex Postgres shows for bytea (protobuf payloads).
fn needles() -> Vec<String> {
    let words = [ZOE, "5555550401", FIRST, LAST, EMAIL];
    let mut out: Vec<String> = words.iter().map(|w| format!("%{w}%")).collect();
    out.extend(words.iter().map(|w| format!("%{}%", hex(w))));
    out
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Tables (and counts) where any needle still appears; event_outbox rows after `outbox_from`
/// (the deletion's own confirmation command, pruned with the relay log) are left out.
async fn leftovers(s: &Stack, outbox_from: i64) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
          where table_schema = 'public' and table_type = 'BASE TABLE' order by 1",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    let mut found = Vec::new();
    for table in tables {
        let only_old = if table == "event_outbox" {
            format!(" and x.id < {outbox_from}")
        } else {
            String::new()
        };
        let sql =
            format!("select count(*) from public.{table} x where x::text ilike any($1){only_old}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(needles())
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
        if n > 0 {
            found.push((table, n));
        }
    }
    found
}

/// Zoe has paid through Stripe Checkout (which collected her name and email).
async fn pays(s: &Stack, user: uuid::Uuid) {
    let event = serde_json::json!({
        "id": "evt_zoe_checkout",
        "type": "checkout.session.completed",
        "data": {"object": {
            "id": "cs_zoe", "object": "checkout.session", "customer": "cus_zoe",
            "client_reference_id": user.to_string(), "amount_total": 1500, "currency": "usd",
            "customer_details": {"email": EMAIL, "name": format!("{FIRST} {LAST}"), "phone": ZOE},
            "customer_email": EMAIL
        }}
    });
    sqlx::query(
        "insert into stripe_customers (user_id, stripe_customer_id) values ($1, 'cus_zoe')",
    )
    .bind(user)
    .execute(&s.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into stripe_events (stripe_event_id, event_type, payload, processed_at)
         values ('evt_zoe_checkout', 'checkout.session.completed', $1, now())",
    )
    .bind(event)
    .execute(&s.db.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn delete_scrubs_the_person_from_every_service_and_keeps_only_what_retention_allows() {
    let s = Stack::with_others().await;
    s.join_named(ZOE, FIRST, LAST, ANSWERS).await;
    let others = [
        ("+15555550402", "Ben"),
        ("+15555550403", "Cy"),
        ("+15555550404", "Dee"),
    ];
    for (phone, name) in others {
        s.join(phone, name, ANSWERS).await;
    }
    let zoe = s.user_id(ZOE).await;
    pays(&s, zoe).await;
    s.clock.advance(Duration::minutes(5));
    s.text(ZOE, "coffee sat morning? just 2-3 of us").await;
    assert_eq!(
        s.scalar("select state::text from linkups").await.as_deref(),
        Some("broadcasting")
    );
    let ben = others[0].0;
    assert_eq!(s.received(ben).len(), 1, "Ben is invited");
    s.text(ben, "yes").await;
    s.received(ben);
    let before: i64 = sqlx::query_scalar(
        "select count(*) from sms_messages where user_id = $1 and body_ciphertext is not null",
    )
    .bind(zoe)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert!(before > 10, "Zoe's texts both ways are stored: {before}");
    assert!(
        !leftovers(&s, i64::MAX).await.is_empty(),
        "the scan finds Zoe before the delete"
    );

    s.text(ZOE, "DELETE").await;
    s.text(ZOE, "DELETE").await;

    let got = s.received(ZOE);
    assert!(
        got.last().unwrap().starts_with("Your account is deleted"),
        "{got:?}"
    );
    let deleted_row: i64 = sqlx::query_scalar(
        "select id from event_outbox where event_type = 'identity.user_deleted'",
    )
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(
        leftovers(&s, deleted_row).await,
        vec![],
        "nothing identifies Zoe any more"
    );
    assert_eq!(
        s.scalar("select count(*)::text from sms_outbound_jobs where status = 'pending'")
            .await
            .as_deref(),
        Some("0"),
        "the confirmation went out; nothing else waits"
    );
    // Her LinkUp is canceled and Ben, who had said yes, is told.
    assert_eq!(
        s.scalar("select state::text from linkups").await.as_deref(),
        Some("canceled")
    );
    assert!(!s.received(ben).is_empty(), "Ben hears the LinkUp is off");

    // Kept: metadata of every text (no body, no number), the soft-deleted row, the Stripe ids.
    let kept: (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where body_ciphertext is null and body_iv is null
                 and body_tag is null and 'deleted' in (from_e164, to_e164)
                 and twilio_message_sid is not null and created_at is not null)
           from sms_messages where user_id = $1",
    )
    .bind(zoe)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert!(kept.0 > before, "the confirmation was stored too: {kept:?}");
    assert_eq!(kept.0, kept.1, "every text kept is metadata only");
    assert_eq!(
        s.scalar(&format!(
            "select state::text from users where id = '{zoe}' and deleted_at is not null"
        ))
        .await
        .as_deref(),
        Some("deleted")
    );
    assert_eq!(
        s.scalar(&format!(
            "select stripe_customer_id from stripe_customers where user_id = '{zoe}'"
        ))
        .await
        .as_deref(),
        Some("cus_zoe")
    );
    assert_eq!(
        s.scalar("select payload #>> '{data,object,amount_total}' from stripe_events where stripe_event_id = 'evt_zoe_checkout'").await.as_deref(),
        Some("1500"),
        "the payment's amounts stay for accounting"
    );
    assert_eq!(
        s.scalar(&format!(
            "select eligible_to_participate::text from entitlements where user_id = '{zoe}'"
        ))
        .await
        .as_deref(),
        Some("false")
    );
    // The others are untouched.
    assert!(
        !s.scalar("select first_name from users where first_name = 'Ben'")
            .await
            .unwrap()
            .is_empty()
    );
}
