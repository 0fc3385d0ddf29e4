//! Ordered consumers with a batch: the partitions' current messages share transactions, while
//! each key's events are still handled one at a time, in publish order, through failures and
//! retries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bus::{ConsumerRunner, ConsumerSpec};
use common::{CONSUMER, DEADLINE, Harness, Recorder, event, payload_info};
use testkit::wait_until;

const BATCH: usize = 4;

fn spec() -> ConsumerSpec {
    ConsumerSpec::ordered(CONSUMER, payload_info())
        .with_batch(BATCH)
        .with_retries(5, vec![Duration::from_millis(20)])
}

/// Publishes every enqueued row, so the consumer finds all partitions full when it starts.
async fn publish_all(h: &Harness) {
    let relay = h.relay();
    while h.unpublished().await > 0 {
        relay.publish_batch().await.unwrap();
    }
}

/// Each key's handled sequence numbers, in the order their effects were written.
async fn committed_order(h: &Harness) -> BTreeMap<String, Vec<i32>> {
    let rows: Vec<(String, i32)> =
        sqlx::query_as("select partition_key, seq from test_effects order by n")
            .fetch_all(&h.db.pool)
            .await
            .unwrap();
    let mut per_key: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for (key, seq) in rows {
        per_key.entry(key).or_default().push(seq);
    }
    per_key
}

/// (transactions, most events in one transaction).
async fn transaction_sizes(h: &Harness) -> (i64, i64) {
    sqlx::query_as(
        "select count(*), coalesce(max(events), 0)
           from (select count(*) as events from test_effects group by tx) t",
    )
    .fetch_one(&h.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn partitions_share_transactions_and_every_key_keeps_its_order_through_retries() {
    let h = Harness::new().await;
    for seq in 0..12 {
        for user in 0..40 {
            h.enqueue(&event(&format!("user-{user:02}"), seq)).await;
        }
    }
    publish_all(&h).await;
    let recorder = Recorder::default();
    // Fails a few batches, and then some of their messages on their own: those are retried
    // after a delay while the other partitions go on.
    recorder.fail_next.store(6, Ordering::SeqCst);
    let spec = spec();
    let runner = ConsumerRunner::new(
        h.js.clone(),
        h.consumer_pool.clone(),
        spec.clone(),
        recorder.clone(),
    );
    let task = tokio::spawn(runner.run(h.shutdown.clone()));

    wait_until("every event handled and acknowledged", DEADLINE, || async {
        h.effects().await == 480 && h.idle(&spec).await
    })
    .await
    .unwrap();

    let per_key = committed_order(&h).await;
    assert_eq!(per_key.len(), 40);
    for (key, seqs) in &per_key {
        assert_eq!(*seqs, (0..12).collect::<Vec<i32>>(), "order of {key}");
    }
    assert_eq!(h.inbox_rows().await, 480, "each event claimed once");
    let (transactions, largest) = transaction_sizes(&h).await;
    assert!(
        transactions < 480,
        "partitions' messages shared transactions ({transactions} for 480 events)"
    );
    assert!(
        largest <= BATCH as i64,
        "no transaction held more than the batch ({largest})"
    );
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_stopped_batching_consumer_finishes_what_it_took_and_a_restart_handles_the_rest() {
    let h = Harness::new().await;
    for seq in 0..5 {
        for user in 0..20 {
            h.enqueue(&event(&format!("user-{user:02}"), seq)).await;
        }
    }
    publish_all(&h).await;
    // What the server sent just before the stop, and nobody read, comes back after the ack wait.
    let mut spec = spec();
    spec.ack_wait = Duration::from_secs(1);
    let start = |shutdown| {
        let runner = ConsumerRunner::new(
            h.js.clone(),
            h.consumer_pool.clone(),
            spec.clone(),
            Recorder::default(),
        );
        tokio::spawn(runner.run(shutdown))
    };
    let first = h.shutdown.child_token();
    let task = start(first.clone());
    wait_until("some events handled", DEADLINE, || async {
        h.effects().await > 0
    })
    .await
    .unwrap();
    first.cancel();
    task.await.unwrap().unwrap();
    let handled_before_restart = h.effects().await;

    let task = start(h.shutdown.clone());
    wait_until("the rest handled", DEADLINE, || async {
        h.effects().await == 100 && h.idle(&spec).await
    })
    .await
    .unwrap();
    assert!(handled_before_restart < 100, "the stop came mid-stream");
    assert_eq!(h.inbox_rows().await, 100);
    for (key, seqs) in committed_order(&h).await {
        assert_eq!(seqs, (0..5).collect::<Vec<i32>>(), "order of {key}");
    }
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}
