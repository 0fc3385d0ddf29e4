//! Relay wake-ups without Postgres NOTIFY (`bus::wake`), against real Postgres and nats-server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bus::{ConsumerRunner, Handler, HandlerError, Notify, Relay, RelayWaker};
use common::{CONSUMER, DEADLINE, Harness, PRODUCER, event};
use proto::Envelope;
use sqlx::{Connection as _, PgConnection};
use testkit::wait_until;

/// Only a wake-up (NOTIFY or NATS) makes these relays publish within a test's deadline.
const HOURLY: Duration = Duration::from_secs(3600);

async fn unpublished(h: &Harness, producer: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from event_outbox where producer = $1 and published_at is null",
    )
    .bind(producer)
    .fetch_one(&h.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_transaction_whose_caller_wakes_the_relay_sends_no_notify_and_the_next_one_does() {
    let h = Harness::new().await;
    let mut channels = common::Channels::listen(&h).await;
    // Both transactions on one connection: the setting must not outlive the first.
    let mut conn = h.producer_pool.acquire().await.unwrap();
    for (seq, notify) in [(1, Notify::ByCaller), (2, Notify::AtCommit)] {
        let row = bus::outbox::OutboxRow::prepare(&event("user-a", seq)).unwrap();
        let mut tx = conn.begin().await.unwrap();
        bus::outbox::enqueue_many(&mut tx, &[&row], notify)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = h.db.pool.begin().await.unwrap();
    let other = Envelope {
        producer: CONSUMER.to_owned(),
        ..event("user-b", 1)
    };
    assert!(bus::outbox::enqueue(&mut tx, &other).await.unwrap());
    tx.commit().await.unwrap();

    // In commit order: had the first transaction notified, ours would come twice first.
    assert_eq!(
        channels.next_two().await,
        [channels.ours.clone(), channels.theirs.clone()]
    );
}

#[tokio::test]
async fn a_relay_woken_over_nats_publishes_rows_committed_without_notify() {
    let h = Harness::new().await;
    let relay =
        Relay::new(h.producer_pool.clone(), h.js.clone(), PRODUCER).with_poll_interval(HOURLY);
    let task = tokio::spawn(relay.run(h.shutdown.clone()));
    // Its first batch runs at once, after it subscribed.
    h.enqueue(&event("user-a", 1)).await;
    wait_until("the first row published", DEADLINE, || async {
        unpublished(&h, PRODUCER).await == 0
    })
    .await
    .unwrap();

    let row = bus::outbox::OutboxRow::prepare(&event("user-a", 2)).unwrap();
    let mut tx = h.producer_pool.begin().await.unwrap();
    bus::outbox::enqueue_many(&mut tx, &[&row], Notify::ByCaller)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    RelayWaker::new(h.js.client(), PRODUCER).wake().await;

    wait_until("the second row published", DEADLINE, || async {
        unpublished(&h, PRODUCER).await == 0
    })
    .await
    .unwrap();
    assert_eq!(h.stream_messages(bus::subjects::EVENTS_STREAM).await, 2);
    h.shutdown.cancel();
    task.await.unwrap();
}

/// Forwards each of the producer's events as one of its own; counts what the runner reports
/// committed.
#[derive(Clone, Default)]
struct Forwarder {
    committed: Arc<AtomicUsize>,
}

impl Handler for Forwarder {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        if envelope.producer != PRODUCER {
            return Ok(()); // its own forwards come back through the stream
        }
        let forward = Envelope {
            producer: CONSUMER.to_owned(),
            idempotency_key: format!("forward:{}", envelope.idempotency_key),
            ..event(&envelope.partition_key, 9)
        };
        bus::outbox::enqueue(tx, &forward)
            .await
            .map_err(HandlerError::retry)?;
        Ok(())
    }

    async fn committed(&self, envelopes: &[&Envelope]) {
        let ours = envelopes.iter().filter(|e| e.producer == PRODUCER).count();
        self.committed.fetch_add(ours, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_consumer_with_a_waker_wakes_its_services_relay_after_each_commit() {
    let h = Harness::new().await;
    let relay =
        Relay::new(h.consumer_pool.clone(), h.js.clone(), CONSUMER).with_poll_interval(HOURLY);
    let relay_task = tokio::spawn(relay.run(h.shutdown.clone()));
    let forwarder = Forwarder::default();
    let runner = ConsumerRunner::new(
        h.js.clone(),
        h.consumer_pool.clone(),
        h.spec(),
        forwarder.clone(),
    )
    .with_waker(RelayWaker::new(h.js.client(), CONSUMER));
    let runner_task = tokio::spawn(runner.run(h.shutdown.clone()));

    h.enqueue(&event("user-a", 1)).await;
    h.relay().publish_batch().await.unwrap();

    wait_until("the forward published", DEADLINE, || async {
        forwarder.committed.load(Ordering::SeqCst) == 1 && unpublished(&h, CONSUMER).await == 0
    })
    .await
    .unwrap();
    assert_eq!(
        h.stream_messages(bus::subjects::EVENTS_STREAM).await,
        2,
        "the event and its forward"
    );
    h.shutdown.cancel();
    relay_task.await.unwrap();
    runner_task.await.unwrap().unwrap();
}

#[tokio::test]
async fn waking_never_waits_for_nats_while_it_is_down() {
    let mut h = Harness::new().await;
    let client = h.js.client();
    let waker = RelayWaker::new(client.clone(), PRODUCER);
    h.nats.kill().await.unwrap();
    wait_until("the client to notice", DEADLINE, || async {
        client.connection_state() != async_nats::connection::State::Connected
    })
    .await
    .unwrap();
    // More than the client's send queue holds (2,048): queued, they would wait for the server.
    let woken = tokio::time::timeout(DEADLINE, async {
        for _ in 0..5_000 {
            waker.wake().await;
        }
    });
    assert!(woken.await.is_ok(), "a wake-up waited for NATS");
}
