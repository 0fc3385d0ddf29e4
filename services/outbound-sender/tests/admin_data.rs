//! SenderAdmin's messages view and export over a real database: metadata for every role, bodies
//! decrypted only for support and engineering with a reason (ops asking is refused and audited);
//! the export holds the person's jobs, messages and suppressions and nobody else's, and after a
//! deletion only what deletion keeps; every call needs a token and leaves an audit row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use admin_auth::testing::{self, authed};
use bus::Handler as _;
use outbound_sender::admin::SenderAdminApi;
use outbound_sender::erasure::ErasureHandler;
use outbound_sender::{Outbound, Parts, Settings, Tuning};
use rpc::admin::v1 as api;
use rpc::admin::v1::sender_admin_client::SenderAdminClient;
use serde_json::Value;
use sqlx::PgPool;
use testkit::TestDb;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;
use uuid::Uuid;

const KEYS: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const ADA: &str = "+15555550771";
const BOB: &str = "+15555550772";
const FROM: &str = "+15005550006";

struct World {
    db: TestDb,
    client: SenderAdminClient<Channel>,
    keyring: crypto::Keyring,
    ada: Uuid,
}

async fn user(pool: &PgPool, phone: &str, name: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                            sms_consent, age_consent, terms_consent, privacy_consent)
         values ($1, 'hash' || $1, $2, 'Tester', '1990-05-17', true, true, true, true)
         returning id",
    )
    .bind(phone)
    .bind(name)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// One job (and, once sent, its `sms_messages` row) texted to `phone`, `minutes` ago.
async fn job(w: &World, user: Uuid, phone: &str, body: &str, sid: Option<&str>, minutes: i64) {
    let key = format!("test:{}", Uuid::new_v4());
    let sealed = w.keyring.encrypt_str(body, key.as_bytes()).unwrap();
    let status = if sid.is_some() { "sent" } else { "pending" };
    sqlx::query(
        "insert into sms_outbound_jobs (user_id, to_e164, phone_hash, key_version, body_iv,
            body_ciphertext, body_tag, purpose, status, twilio_message_sid, delivery_status,
            sender, idempotency_key, created_at)
         values ($1, $2, 'hash' || $2, $3, $4, $5, $6, 'reply', $7, $8,
                 case when $8 is null then null else 'delivered' end, $9, $10,
                 now() - make_interval(mins => $11::int))",
    )
    .bind(user)
    .bind(phone)
    .bind(sealed.key_version)
    .bind(sealed.nonce.as_slice())
    .bind(sealed.ciphertext.as_slice())
    .bind(sealed.tag.as_slice())
    .bind(status)
    .bind(sid)
    .bind(sid.map(|_| FROM))
    .bind(&key)
    .bind(i32::try_from(minutes).unwrap())
    .execute(&w.db.pool)
    .await
    .unwrap();
    let Some(sid) = sid else { return };
    let sealed = w.keyring.encrypt_str(body, sid.as_bytes()).unwrap();
    sqlx::query(
        "insert into sms_messages (user_id, direction, from_e164, to_e164, twilio_message_sid,
            key_version, body_iv, body_ciphertext, body_tag, status, num_segments)
         values ($1, 'out', $2, $3, $4, $5, $6, $7, $8, 'delivered', 1)",
    )
    .bind(user)
    .bind(FROM)
    .bind(phone)
    .bind(sid)
    .bind(sealed.key_version)
    .bind(sealed.nonce.as_slice())
    .bind(sealed.ciphertext.as_slice())
    .bind(sealed.tag.as_slice())
    .execute(&w.db.pool)
    .await
    .unwrap();
}

/// Ada: two texts sent, one pending, and an opt-out; Bob: one text.
async fn world() -> World {
    let db = TestDb::migrated().await.unwrap();
    let keyring = crypto::Keyring::from_config(KEYS, "2").unwrap();
    let client = twilio::client::MessagesClient::new(
        "http://127.0.0.1:9",
        "AC00000000000000000000000000000000",
        secrecy::SecretString::from("unused"),
        Duration::from_secs(1),
    )
    .unwrap();
    let outbound = Outbound::new(Parts {
        pool: db.pool_as("josh_outbound_sender").await.unwrap(),
        keyring: keyring.clone(),
        pepper: crypto::PhonePepper::new("test-pepper").unwrap(),
        client,
        clock: Arc::new(platform::clock::SystemClock),
        settings: Settings::new(
            twilio::client::Sender::From(FROM.to_owned()),
            "https://josh.example",
            &Tuning::default(),
        ),
    });
    let served = testing::serve(Routes::new(SenderAdminApi::new(outbound).into_server())).await;
    let ada = user(&db.pool, ADA, "Ada").await;
    let bob = user(&db.pool, BOB, "Bob").await;
    let w = World {
        db,
        client: SenderAdminClient::new(served.channel),
        keyring,
        ada,
    };
    job(&w, ada, ADA, "Welcome to JOSH!", Some("SMada1"), 30).await;
    job(&w, ada, ADA, "Coffee Saturday?", Some("SMada2"), 20).await;
    job(&w, ada, ADA, "Reminder at 9", None, 10).await;
    job(&w, bob, BOB, "Bob's private invite", Some("SMbob1"), 15).await;
    sqlx::query(
        "insert into sms_suppressions (phone_hash, user_id, reason) values ('hash' || $1, $2, 'opted_out')",
    )
    .bind(ADA)
    .bind(ada)
    .execute(&w.db.pool)
    .await
    .unwrap();
    w
}

fn list(user: &str, bodies: bool, reason: &str) -> api::ListMessagesRequest {
    api::ListMessagesRequest {
        user: Some(api::list_messages_request::User::PhoneE164(user.to_owned())),
        limit: 0,
        include_bodies: bodies,
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn the_view_shows_jobs_to_any_role_and_bodies_only_to_support_and_engineering() {
    let mut w = world().await;
    let pool = w.db.pool.clone();
    let ops = testing::token(&pool, "ops").await;
    let support = testing::token(&pool, "support").await;

    let view = w
        .client
        .list_messages(authed(list(ADA, false, ""), &ops))
        .await
        .unwrap()
        .into_inner();
    let shown: Vec<(&str, &str, &str)> = view
        .messages
        .iter()
        .map(|m| {
            (
                m.message_sid.as_str(),
                m.status.as_str(),
                m.delivery_status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("", "pending", ""),
            ("SMada2", "sent", "delivered"),
            ("SMada1", "sent", "delivered"),
        ],
        "Ada's jobs, newest first"
    );
    assert!(
        view.messages
            .iter()
            .all(|m| m.body.is_none() && m.direction == "out")
    );
    assert_eq!(view.messages[1].purpose, "reply");
    assert_eq!(view.messages[1].josh_number, FROM);

    let denied = w
        .client
        .list_messages(authed(list(ADA, true, "curious"), &ops))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let no_reason = w
        .client
        .list_messages(authed(list(ADA, true, ""), &support))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let anonymous = w.client.list_messages(list(ADA, false, "")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);

    let read = w
        .client
        .list_messages(authed(list(ADA, true, "ticket 9"), &support))
        .await
        .unwrap()
        .into_inner();
    let bodies: Vec<Option<&str>> = read.messages.iter().map(|m| m.body.as_deref()).collect();
    assert_eq!(
        bodies,
        [
            Some("Reminder at 9"),
            Some("Coffee Saturday?"),
            Some("Welcome to JOSH!")
        ]
    );
    assert!(!format!("{read:?}").contains("Bob's private invite"));

    let audit = testing::audit_rows(&pool, "messages.outbound").await;
    let summary: Vec<_> = audit
        .iter()
        .map(|r| {
            (
                r.outcome.as_deref(),
                r.payload["bodies"].as_bool(),
                r.payload["rows"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (None, Some(false), Some(3)),
            (Some("denied"), Some(true), None),
            (None, Some(true), Some(3)),
        ]
    );
    assert_eq!(audit[2].reason.as_deref(), Some("ticket 9"));
    assert_eq!(audit[2].target_id, Some(w.ada));
    assert_eq!(audit[2].payload["bodies_shown"], 3);
}

fn export(user_id: Uuid, reason: &str) -> api::UserExportRequest {
    api::UserExportRequest {
        user_id: user_id.to_string(),
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn the_export_holds_the_persons_jobs_messages_and_opt_outs_for_support_and_engineering() {
    let mut w = world().await;
    let pool = w.db.pool.clone();
    let engineering = testing::token(&pool, "engineering").await;
    let answer = w
        .client
        .export_user(authed(export(w.ada, "access request 5"), &engineering))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.service, "outbound-sender");
    let doc: Value = serde_json::from_str(&answer.document_json).unwrap();
    let bodies = |table: &str| -> Vec<String> {
        doc[table]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["body"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    assert_eq!(
        bodies("sms_outbound_jobs"),
        ["Welcome to JOSH!", "Coffee Saturday?", "Reminder at 9"]
    );
    assert_eq!(
        bodies("sms_messages"),
        ["Welcome to JOSH!", "Coffee Saturday?"]
    );
    assert_eq!(doc["sms_suppressions"][0]["reason"], "opted_out");
    for absent in ["Bob", BOB, "SMbob1", "phone_hash", "body_ciphertext"] {
        assert!(!answer.document_json.contains(absent), "{absent} in {doc}");
    }

    let ops = testing::token(&pool, "ops").await;
    let denied = w.client.export_user(authed(export(w.ada, "x"), &ops)).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = w.client.export_user(export(w.ada, "x")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let audit = testing::audit_rows(&pool, "user.export").await;
    let outcomes: Vec<Option<&str>> = audit.iter().map(|r| r.outcome.as_deref()).collect();
    assert_eq!(outcomes, [None, Some("denied")]);
    assert_eq!(audit[0].payload["rows"]["sms_outbound_jobs"], 3);
    assert_eq!(audit[0].payload["service"], "outbound-sender");
    assert_eq!(audit[1].payload["service"], "outbound-sender");

    // After the deletion fact: metadata and the opt-out stay; bodies and the number go.
    let deleted = proto::v1::UserDeleted {
        user_id: w.ada.to_string(),
        phone_hash: format!("hash{ADA}"),
        ..Default::default()
    };
    let envelope = proto::Envelope {
        event_id: Uuid::now_v7().to_string(),
        correlation_id: Uuid::now_v7().to_string(),
        payload: Some(proto::Payload::UserDeleted(deleted)),
        ..Default::default()
    };
    let mut tx =
        w.db.pool_as("josh_outbound_sender")
            .await
            .unwrap()
            .begin()
            .await
            .unwrap();
    ErasureHandler.handle(&mut tx, &envelope).await.unwrap();
    tx.commit().await.unwrap();
    sqlx::query("update users set deleted_at = now(), state = 'deleted' where id = $1")
        .bind(w.ada)
        .execute(&pool)
        .await
        .unwrap();
    let after = w
        .client
        .export_user(authed(export(w.ada, "erasure check"), &engineering))
        .await
        .unwrap()
        .into_inner();
    let doc: Value = serde_json::from_str(&after.document_json).unwrap();
    assert_eq!(
        doc["sms_outbound_jobs"].as_array().unwrap().len(),
        3,
        "{doc}"
    );
    assert_eq!(doc["sms_messages"].as_array().unwrap().len(), 2, "{doc}");
    assert_eq!(
        doc["sms_suppressions"].as_array().unwrap().len(),
        1,
        "{doc}"
    );
    for gone in [ADA, "Welcome to JOSH!", "Coffee Saturday?", "Reminder at 9"] {
        assert!(!after.document_json.contains(gone), "{gone} in {doc}");
    }
}
