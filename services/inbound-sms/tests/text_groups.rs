//! The inbound text writer: texts waiting together are stored in one transaction, each once
//! (with its audit row and its `sms.received` event, naming a registered sender's user), and a
//! text that cannot be stored fails alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use inbound_sms::received::{TextRecord, TextWriter, Texts};
use prost::Message as _;
use serde_json::json;
use testkit::TestDb;
use time::OffsetDateTime;
use twilio::webhook::{FormParams, InboundMessage};
use uuid::Uuid;

const KEYS: &str = "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A text from `from` with `sid`, sealed with key version `key_version`.
fn text(sid: &str, from: &str, key_version: i32) -> TextRecord {
    let pairs = common::sms_params(sid, from, "hi there")
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let message = InboundMessage::from_params(FormParams::from_pairs(pairs)).unwrap();
    let keyring = crypto::Keyring::from_config(KEYS, "1").unwrap();
    let sealed = keyring.encrypt_str("hi there", sid.as_bytes()).unwrap();
    let body = crypto::EncryptedBody::from_parts(
        key_version,
        &sealed.nonce,
        &sealed.ciphertext,
        &sealed.tag,
    )
    .unwrap();
    TextRecord {
        message,
        phone_hash: format!("hash-{from}"),
        body,
        media_count: 0,
        correlation_id: Uuid::now_v7(),
        received_at: OffsetDateTime::now_utc(),
        audit: json!({ "message_sid": sid, "direction": "in" }),
        span: tracing::Span::none(),
    }
}

/// (transactions that stored the texts, texts, audit rows, outbox rows).
async fn written(db: &TestDb) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "select (select count(distinct xmin::text) from sms_messages),
                (select count(*) from sms_messages),
                (select count(*) from message_events where event_type = 'sms.received'),
                (select count(*) from event_outbox where event_type = 'sms.received')",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

/// The `user_id` each stored `sms.received` event names, by SID.
async fn event_users(db: &TestDb) -> Vec<(String, String)> {
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("select payload from event_outbox where event_type = 'sms.received'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut users: Vec<(String, String)> = payloads
        .into_iter()
        .map(
            |p| match proto::Envelope::decode(p.as_slice()).unwrap().payload {
                Some(proto::Payload::SmsReceived(sms)) => (sms.message_sid, sms.user_id),
                other => panic!("not sms.received: {other:?}"),
            },
        )
        .collect();
    users.sort();
    users
}

// On the test's single-threaded runtime the writer first runs once every text below is
// queued, so they form one group.
#[tokio::test]
async fn texts_waiting_together_are_stored_in_one_transaction_each_once() {
    let db = TestDb::migrated().await.unwrap();
    let user: Uuid = sqlx::query_scalar(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                            sms_consent, age_consent, terms_consent, privacy_consent)
         values ('+15550001000', 'hash-+15550001000', 'Ada', 'Lovelace', '1990-12-10',
                 true, true, true, true)
         returning id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let writer = TextWriter::spawn(
        db.pool_as("josh_inbound_sms").await.unwrap(),
        Texts::default(),
    );
    let sids: Vec<String> = (0..8).map(|_| common::sid("SM")).collect();
    let mut records: Vec<TextRecord> = sids
        .iter()
        .enumerate()
        .map(|(i, sid)| text(sid, &format!("+1555000100{i}"), 1))
        .collect();
    records.push(text(&sids[5], "+15550001005", 1)); // Twilio delivered it twice

    let answers = futures::future::join_all(records.into_iter().map(|r| writer.store(r))).await;

    let new: Vec<bool> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(new, [true, true, true, true, true, true, true, true, false]);
    assert_eq!(
        written(&db).await,
        (1, 8, 8, 8),
        "(transactions, texts, audit, outbox)"
    );
    let users = event_users(&db).await;
    let named: Vec<&(String, String)> = users.iter().filter(|(_, u)| !u.is_empty()).collect();
    assert_eq!(named, [&(sids[0].clone(), user.to_string())]);
}

#[tokio::test]
async fn a_text_that_cannot_be_stored_fails_alone_and_a_stored_one_stays_stored() {
    let db = TestDb::migrated().await.unwrap();
    let writer = TextWriter::spawn(
        db.pool_as("josh_inbound_sms").await.unwrap(),
        Texts::default(),
    );
    let (a, b, c) = (common::sid("SM"), common::sid("SM"), common::sid("SM"));
    // Key version 0 breaks a check constraint, failing the whole group at first.
    let records = vec![
        text(&a, "+15550002001", 1),
        text(&b, "+15550002002", 0),
        text(&c, "+15550002003", 1),
    ];

    let answers = futures::future::join_all(records.into_iter().map(|r| writer.store(r))).await;

    assert!(answers[0].as_ref().is_ok_and(|new| *new));
    assert!(answers[1].is_err(), "{:?}", answers[1]);
    assert!(answers[2].as_ref().is_ok_and(|new| *new));
    let (_, texts, audit, outbox) = written(&db).await;
    assert_eq!((texts, audit, outbox), (2, 2, 2));

    // A retry of a stored text is a duplicate, alone or in a group.
    let again = writer.store(text(&a, "+15550002001", 1)).await.unwrap();
    assert!(!again, "already stored");
    assert_eq!(written(&db).await.1, 2);
}
