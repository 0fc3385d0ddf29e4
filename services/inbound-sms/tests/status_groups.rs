//! The status writer: callbacks waiting together are stored in one transaction, each once, with
//! one event for the group, and a callback that cannot be stored fails alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use inbound_sms::statuses::{StatusRecord, StatusWriter, Statuses};
use proto::Payload;
use proto::v1::SmsStatusReported;
use serde_json::json;
use testkit::TestDb;
use twilio::status::MessageStatus;
use uuid::Uuid;

/// A `sent` callback of message `sid`, with `note` in its audit payload.
fn callback(sid: &str, note: &str) -> StatusRecord {
    StatusRecord {
        audit_id: inbound_sms::events::status_audit_id(sid, MessageStatus::Sent),
        report: SmsStatusReported {
            message_sid: sid.to_owned(),
            raw_status: "sent".to_owned(),
            ..Default::default()
        },
        phone_hash: None,
        audit: json!({ "message_sid": sid, "status": "sent", "note": note }),
        correlation_id: Uuid::now_v7(),
    }
}

/// Transactions that wrote outbox rows, the outbox rows, and the audit rows.
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

/// The SIDs reported by each outbox event, in order.
async fn events(db: &TestDb) -> Vec<Vec<String>> {
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar("select payload from event_outbox order by id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    payloads
        .iter()
        .map(|p| match proto::decode_envelope(p).unwrap().payload {
            Some(Payload::SmsStatusesReported(group)) => {
                group.reports.into_iter().map(|r| r.message_sid).collect()
            }
            other => panic!("not a group of statuses: {other:?}"),
        })
        .collect()
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
    let mut records: Vec<StatusRecord> = sids.iter().map(|s| callback(s, "")).collect();
    records.push(callback(&sids[3], "")); // Twilio delivered it twice

    let answers = futures::future::join_all(records.into_iter().map(|r| writer.store(r))).await;

    let new: Vec<bool> = answers.into_iter().map(Result::unwrap).collect();
    assert_eq!(new.iter().filter(|n| **n).count(), 10);
    assert!(!new[10], "the redelivery is not new");
    assert_eq!(
        written(&db).await,
        (1, 1, 10),
        "(transactions, outbox, audit)"
    );
    assert_eq!(
        events(&db).await,
        [sids],
        "one event, each callback once, in order"
    );

    // Delivered again later, alone: answered as a duplicate, and nothing is published.
    assert!(
        !writer
            .store(callback("SM00000000000000000000000000000007", ""))
            .await
            .unwrap()
    );
    assert_eq!(written(&db).await, (1, 1, 10));
}

#[tokio::test]
async fn a_callback_that_cannot_be_stored_fails_alone() {
    let db = TestDb::migrated().await.unwrap();
    let writer = StatusWriter::spawn(
        db.pool_as("josh_inbound_sms").await.unwrap(),
        Statuses::default(),
    );
    // Postgres refuses a NUL character in jsonb text, failing the whole group.
    let records = vec![
        callback("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ""),
        callback("SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "\u{0}"),
        callback("SMcccccccccccccccccccccccccccccccc", ""),
    ];

    let answers = futures::future::join_all(records.into_iter().map(|r| writer.store(r))).await;

    assert!(answers[0].as_ref().is_ok_and(|new| *new));
    assert!(answers[1].is_err(), "{:?}", answers[1]);
    assert!(answers[2].as_ref().is_ok_and(|new| *new));
    let (_, outbox, audit) = written(&db).await;
    assert_eq!(
        (outbox, audit),
        (2, 2),
        "each stored alone, with its own event"
    );
}
