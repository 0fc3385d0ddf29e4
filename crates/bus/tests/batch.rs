//! Unordered consumers that handle the messages at hand in one transaction: each event still
//! has exactly one effect, a failure commits nothing of its batch, and the failing message alone
//! is retried or dead-lettered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bus::{ConsumerRunner, ConsumerSpec, HandlerError, Outcome, dlq};
use common::{CONSUMER, DEADLINE, Harness, Recorder, event, payload_info};
use prost::Message;
use proto::Envelope;
use proto::v1::SmsStatusReported;
use testkit::wait_until;

fn batching_spec() -> ConsumerSpec {
    ConsumerSpec::unordered(CONSUMER, payload_info(), 2)
        .with_batch(16)
        .with_retries(3, vec![Duration::from_millis(20)])
}

/// An envelope on the recorder's subject whose payload it rejects.
fn unhandleable() -> Envelope {
    Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        partition_key: "user-x".to_owned(),
        ..Envelope::for_payload(SmsStatusReported::default())
    }
}

async fn transactions(h: &Harness) -> i64 {
    sqlx::query_scalar("select count(distinct tx) from test_effects")
        .fetch_one(&h.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_handles_new_events_once_and_skips_handled_ones() {
    let h = Harness::new().await;
    let recorder = Recorder::default();
    let (first, second, third) = (event("user-a", 1), event("user-b", 1), event("user-a", 2));
    let outcome = bus::deliver(&h.consumer_pool, CONSUMER, &recorder, &first).await;
    assert_eq!(outcome.unwrap(), Outcome::Handled);

    let batch = [&first, &second, &second, &third];
    let outcomes = bus::consumer::deliver_batch(&h.consumer_pool, CONSUMER, &recorder, &batch)
        .await
        .unwrap();

    assert_eq!(
        outcomes,
        [
            Outcome::Duplicate,
            Outcome::Handled,
            Outcome::Duplicate,
            Outcome::Handled
        ]
    );
    assert_eq!(h.effects().await, 3);
    assert_eq!(h.inbox_rows().await, 3);
    assert_eq!(transactions(&h).await, 2, "the batch committed as one");
}

#[tokio::test]
async fn a_failure_in_a_batch_commits_none_of_it() {
    let h = Harness::new().await;
    let recorder = Recorder::default();
    let (good, bad) = (event("user-a", 1), unhandleable());

    let result =
        bus::consumer::deliver_batch(&h.consumer_pool, CONSUMER, &recorder, &[&good, &bad]).await;

    assert!(matches!(result, Err(HandlerError::Reject(_))), "{result:?}");
    assert_eq!(h.effects().await, 0, "the first event's effect rolled back");
    assert_eq!(h.inbox_rows().await, 0, "and so did its inbox claim");
}

#[tokio::test]
async fn a_batching_consumer_handles_every_event_once_and_dead_letters_only_the_bad_one() {
    let h = Harness::new().await;
    for seq in 0..10 {
        for user in 0..20 {
            h.enqueue(&event(&format!("user-{user:02}"), seq)).await;
        }
    }
    h.relay().publish_batch().await.unwrap();
    let bad = unhandleable();
    let subject = bus::subjects::subject(payload_info(), 0);
    h.publish_raw(subject, &bad.event_id, bad.encode_to_vec())
        .await;
    // Everything is in the stream before the consumer starts, so deliveries arrive together.
    let recorder = Recorder::default();
    recorder.fail_next.store(1, Ordering::SeqCst);
    let spec = batching_spec();
    let runner = ConsumerRunner::new(
        h.js.clone(),
        h.consumer_pool.clone(),
        spec.clone(),
        recorder.clone(),
    );
    let task = tokio::spawn(runner.run(h.shutdown.clone()));

    wait_until("every event handled and acknowledged", DEADLINE, || async {
        h.effects().await == 200 && h.idle(&spec).await
    })
    .await
    .unwrap();

    let distinct: i64 = sqlx::query_scalar("select count(distinct event_id) from test_effects")
        .fetch_one(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(distinct, 200, "one effect per event");
    assert_eq!(
        h.inbox_rows().await,
        200,
        "the bad event was never marked handled"
    );
    assert!(
        transactions(&h).await < 200,
        "events that arrived together shared a transaction"
    );
    let letters = dlq::list(&h.js, Some(CONSUMER), 10).await.unwrap();
    assert_eq!(letters.len(), 1, "only the unhandleable event: {letters:?}");
    assert_eq!(letters[0].event_id, bad.event_id);
    assert_eq!(recorder.dead_lettered.load(Ordering::SeqCst), 1);
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}
