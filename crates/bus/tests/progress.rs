//! A message whose handling outlasts the ack wait is reported in progress while it runs, and
//! the server does not redeliver it meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bus::{ConsumerRunner, Handler, HandlerError};
use common::{DEADLINE, Harness, event};
use futures::StreamExt;
use proto::Envelope;
use sqlx::PgConnection;
use testkit::wait_until;
use tokio::sync::Semaphore;

/// Handles a message only once the test lets it.
#[derive(Clone)]
struct Held {
    started: Arc<AtomicU32>,
    /// Deliveries settled, duplicates included: a redelivery is settled too.
    settled: Arc<AtomicU32>,
    release: Arc<Semaphore>,
}

impl Handler for Held {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let _permit = self.release.acquire().await.unwrap();
        sqlx::query(
            "insert into test_effects (event_id, partition_key, seq) values ($1::uuid, $2, 1)",
        )
        .bind(&envelope.event_id)
        .bind(&envelope.partition_key)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    fn committed<'a>(
        &'a self,
        envelopes: &'a [&'a Envelope],
    ) -> impl Future<Output = ()> + Send + 'a {
        self.settled
            .fetch_add(u32::try_from(envelopes.len()).unwrap(), Ordering::SeqCst);
        async {}
    }
}

#[tokio::test]
async fn a_message_handled_for_longer_than_the_ack_wait_is_kept_in_progress_not_redelivered() {
    let h = Harness::new().await;
    let mut spec = h.spec();
    spec.ack_wait = Duration::from_secs(1);
    // Every ack the consumer sends, as the server receives it.
    let watcher = async_nats::connect(h.nats.url()).await.unwrap();
    let mut acks = watcher.subscribe("$JS.ACK.>").await.unwrap();
    watcher.flush().await.unwrap();
    h.enqueue(&event("user-a", 1)).await;
    h.relay().publish_batch().await.unwrap();
    let handler = Held {
        started: Arc::default(),
        settled: Arc::default(),
        release: Arc::new(Semaphore::new(0)),
    };
    let runner = ConsumerRunner::new(
        h.js.clone(),
        h.consumer_pool.clone(),
        spec.clone(),
        handler.clone(),
    );
    let task = tokio::spawn(runner.run(h.shutdown.clone()));
    // Reports come every third of the ack wait: six mean the handler has been running for
    // twice the ack wait, by when the server would have redelivered an unreported message.
    let reports = async {
        let mut seen = 0;
        while seen < 6 {
            let ack = acks.next().await.expect("the watcher stays subscribed");
            if ack.payload.as_ref() == b"+WPI" {
                seen += 1;
            }
        }
    };
    tokio::time::timeout(DEADLINE, reports)
        .await
        .expect("progress reports while the handler runs");
    handler.release.add_permits(1);
    wait_until("the effect", DEADLINE, || async { h.effects().await == 1 })
        .await
        .unwrap();
    wait_until("the consumer to settle", DEADLINE, || h.idle(&spec))
        .await
        .unwrap();
    assert_eq!(handler.started.load(Ordering::SeqCst), 1, "handled once");
    assert_eq!(
        handler.settled.load(Ordering::SeqCst),
        1,
        "settled once: a redelivery is settled as a duplicate"
    );
    // The server's count of deliveries, redeliveries included.
    let mut deliveries = 0;
    let stream = h.js.get_stream(spec.stream()).await.unwrap();
    for (durable, _, _) in spec.durables() {
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&durable)
            .await
            .unwrap();
        deliveries += consumer.info().await.unwrap().delivered.consumer_sequence;
    }
    assert_eq!(deliveries, 1, "delivered once");
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn durables_made_with_the_old_ack_wait_take_the_new_one_on_start() {
    let h = Harness::new().await;
    // As the previous release made them: a 30 s ack wait and a server-side backoff.
    let before = h.spec();
    let stream = h.js.get_stream(before.stream()).await.unwrap();
    for (durable, filter, max_ack_pending) in before.durables() {
        let config = async_nats::jetstream::consumer::pull::Config {
            durable_name: Some(durable),
            filter_subject: filter,
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            max_deliver: before.max_deliver,
            max_ack_pending,
            backoff: vec![Duration::from_secs(30); 2],
            ..Default::default()
        };
        let mut old = stream.create_consumer(config).await.unwrap();
        assert_eq!(old.info().await.unwrap().config.backoff.len(), 2);
    }
    let after = h.spec();
    let consumers = bus::topology::ensure_consumers(&h.js, &after)
        .await
        .unwrap();
    assert_eq!(consumers.len(), after.durables().len());
    for mut consumer in consumers {
        let info = consumer.info().await.unwrap();
        assert_eq!(info.config.ack_wait, after.ack_wait, "{}", info.name);
        assert!(
            info.config.backoff.is_empty(),
            "retries are timed by the naks alone: {}",
            info.name
        );
    }
}
