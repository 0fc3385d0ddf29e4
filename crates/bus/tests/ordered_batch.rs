//! Ordered consumers with a batch: the partitions' current messages share transactions, while
//! each key's events are still handled one at a time, in publish order, through failures and
//! retries.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use bus::{ConsumerRunner, ConsumerSpec};
use common::{
    CONSUMER, DEADLINE, Harness, Recorder, committed_order, payload_info, publish_grid,
    stop_mid_stream_and_restart,
};
use testkit::wait_until;

const BATCH: usize = 4;

fn spec() -> ConsumerSpec {
    ConsumerSpec::ordered(CONSUMER, payload_info())
        .with_batch(BATCH)
        .with_retries(5, vec![Duration::from_millis(20)])
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
    publish_grid(&h, 40, 12).await;
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
async fn a_stopped_batching_consumer_hands_back_what_it_had_not_read_so_a_restart_goes_on_at_once()
{
    let h = Harness::new().await;
    publish_grid(&h, 20, 5).await;
    // An ack wait beyond the deadline: a message the server sent just before the stop, and nobody
    // read, must come back at the stop, not after the ack wait.
    let mut spec = spec();
    spec.ack_wait = 2 * DEADLINE;
    let handled_before_restart = stop_mid_stream_and_restart(&h, &spec, 100).await;
    assert!(handled_before_restart < 100, "the stop came mid-stream");
    assert_eq!(h.inbox_rows().await, 100);
    for (key, seqs) in committed_order(&h).await {
        assert_eq!(seqs, (0..5).collect::<Vec<i32>>(), "order of {key}");
    }
}
