//! The status writer: callbacks waiting together are stored in one transaction, each once, and a
//! callback that cannot be stored fails alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use inbound_sms::statuses::{StatusRecord, StatusWriter, Statuses};
use proto::Envelope;
use proto::v1::SmsStatusReported;
use serde_json::json;
use testkit::TestDb;
use uuid::Uuid;

/// A `sent` callback of message `sid` from `producer`.
fn callback(producer: &str, sid: &str) -> StatusRecord {
    let envelope = Envelope {
        event_id: Uuid::now_v7().to_string(),
        producer: producer.to_owned(),
        idempotency_key: format!("{sid}:sent"),
        partition_key: sid.to_owned(),
        ..Envelope::for_payload(SmsStatusReported {
            message_sid: sid.to_owned(),
            raw_status: "sent".to_owned(),
            ..Default::default()
        })
    };
    StatusRecord {
        outbox: bus::outbox::OutboxRow::prepare(&envelope).unwrap(),
        phone_hash: None,
        audit: json!({ "message_sid": sid, "status": "sent" }),
        correlation_id: Uuid::now_v7(),
    }
}

/// Transactions that wrote this producer's outbox rows, and the audit rows.
async fn written(db: &TestDb) -> (i64, i64, i64) {
    sqlx::query_as(
        "select (select count(distinct xmin::text) from event_outbox),
                (select count(*) from event_outbox),
                (select count(*) from message_events)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

// On the test's single-threaded runtime the writer first runs once every callback below is
// queued, so they form one group.
#[tokio::test]
async fn callbacks_waiting_together_are_stored_in_one_transaction_each_once() {
    let db = TestDb::migrated().await.unwrap();
    let writer = StatusWriter::spawn(
        db.pool_as("josh_inbound_sms").await.unwrap(),
        Statuses::default(),
    );
    let sids: Vec<String> = (0..10).map(|i| format!("SM{i:032}")).collect();
    let mut records: Vec<StatusRecord> = sids.iter().map(|s| callback("inbound-sms", s)).collect();
    records.push(callback("inbound-sms", &sids[3])); // Twilio delivered it twice

    let answers = futures::future::join_all(records.into_iter().map(|r| writer.store(r))).await;

    let new: Vec<bool> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(new.iter().filter(|n| **n).count(), 10);
    assert!(!new[10], "the redelivery is not new");
    assert_eq!(
        written(&db).await,
        (1, 10, 10),
        "(transactions, outbox, audit)"
    );
}

#[tokio::test]
async fn a_callback_that_cannot_be_stored_fails_alone() {
    let db = TestDb::migrated().await.unwrap();
    let writer = StatusWriter::spawn(
        db.pool_as("josh_inbound_sms").await.unwrap(),
        Statuses::default(),
    );
    // Row-level security refuses another producer's outbox row, failing the whole group.
    let records = vec![
        callback("inbound-sms", "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        callback("billing", "SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
        callback("inbound-sms", "SMcccccccccccccccccccccccccccccccc"),
    ];

    let answers = futures::future::join_all(records.into_iter().map(|r| writer.store(r))).await;

    assert!(answers[0].as_ref().is_ok_and(|new| *new));
    assert!(answers[1].is_err(), "{:?}", answers[1]);
    assert!(answers[2].as_ref().is_ok_and(|new| *new));
    let (_, outbox, audit) = written(&db).await;
    assert_eq!((outbox, audit), (2, 2));
}
