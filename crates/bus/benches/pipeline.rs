//! Benchmark: outbox → relay → JetStream → ordered consumer with the transactional inbox.
//!
//! Enqueues N events for U users in committed transactions (as producers do), runs one relay
//! and one per-key ordered consumer, and reports throughput and end-to-end latency (enqueue
//! commit → handler commit). Uses the local Postgres (`TEST_DATABASE_URL`) and a private
//! nats-server with a file store.
//!
//! `cargo bench -p bus --bench pipeline -- [events] [users] [producers] [rate]` (defaults 20000,
//! 200, 8 concurrent producer tasks each committing one event per transaction, and rate 0 = as
//! fast as they can; a rate in events/s paces them to measure latency at a given load).
//! Figures are recorded in docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use bus::{ConsumerRunner, ConsumerSpec, Handler, HandlerError, Relay};
use proto::Envelope;
use proto::v1::ProfileUpdated;
use sqlx::PgConnection;
use testkit::{NatsServer, TestDb, wait_until};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Latencies(Arc<Mutex<Vec<Duration>>>, Arc<Instant>);

impl Handler for Latencies {
    async fn handle(
        &self,
        _tx: &mut PgConnection,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        // The event's step carries its enqueue time in micros since the benchmark began.
        let Some(proto::Payload::ProfileUpdated(p)) = envelope.payload.as_ref() else {
            return Ok(());
        };
        let sent = Duration::from_micros(p.step.parse().unwrap_or(0));
        self.0
            .lock()
            .await
            .push(self.1.elapsed().saturating_sub(sent));
        Ok(())
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let events = args.first().copied().unwrap_or(20_000);
    let users = args.get(1).copied().unwrap_or(200);
    let producers = args.get(2).copied().unwrap_or(8).max(1);
    let rate = args.get(3).copied().unwrap_or(0);

    let db = TestDb::migrated().await.unwrap();
    let nats = NatsServer::start().await.unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    bus::ensure_streams(&js, 1).await.unwrap();
    let producer = db.pool_as("josh_conversation_router").await.unwrap();
    let consumer = db.pool_as("josh_linkup_matcher").await.unwrap();
    let shutdown = CancellationToken::new();
    let origin = Arc::new(Instant::now());
    let latencies = Latencies(Arc::default(), origin.clone());
    let info = proto::catalog::by_type_name("identity.profile_updated").unwrap();
    let spec = ConsumerSpec::ordered("linkup-matcher", info);
    let runner = ConsumerRunner::new(js.clone(), consumer, spec, latencies.clone());
    let consuming = tokio::spawn(runner.run(shutdown.clone()));
    let relaying = tokio::spawn(
        Relay::new(producer.clone(), js.clone(), "conversation-router").run(shutdown.clone()),
    );

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for p in 0..producers {
        let (pool, origin) = (producer.clone(), origin.clone());
        tasks.spawn(async move {
            // Each producer sends its share of the rate on its own ticker.
            let mut ticker = (rate > 0).then(|| {
                let period = Duration::from_secs_f64(producers as f64 / rate as f64);
                tokio::time::interval(period)
            });
            for i in (p..events).step_by(producers) {
                if let Some(t) = ticker.as_mut() {
                    t.tick().await;
                }
                enqueue_one(&pool, &origin, i, users).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let enqueued = started.elapsed();
    wait_until("every event handled", Duration::from_secs(600), || async {
        latencies.0.lock().await.len() >= events
    })
    .await
    .unwrap();
    let total = started.elapsed();
    shutdown.cancel();
    consuming.await.unwrap().unwrap();
    relaying.await.unwrap();

    let mut all = latencies.0.lock().await.clone();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 - 1.0) * p) as usize];
    println!(
        "events {events}, users {users}, producers {producers}, offered rate {}, partitions {}",
        if rate == 0 {
            "max".to_owned()
        } else {
            format!("{rate}/s")
        },
        bus::subjects::PARTITIONS
    );
    println!(
        "enqueue: {:.0} events/s ({enqueued:.2?})",
        events as f64 / enqueued.as_secs_f64()
    );
    println!(
        "end to end: {:.0} events/s ({total:.2?})",
        events as f64 / total.as_secs_f64()
    );
    println!(
        "latency enqueue-commit to handler: p50 {:.1?} p95 {:.1?} p99 {:.1?} max {:.1?}",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        all[all.len() - 1]
    );
}

/// Enqueues event `i` in its own committed transaction, as a producer's use case would.
async fn enqueue_one(pool: &sqlx::PgPool, origin: &Instant, i: usize, users: usize) {
    let user = format!("user-{}", i % users);
    let payload = ProfileUpdated {
        user_id: user.clone(),
        step: origin.elapsed().as_micros().to_string(),
        ..Default::default()
    };
    let envelope = Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        producer: "conversation-router".to_owned(),
        idempotency_key: format!("bench:{i}"),
        partition_key: user,
        ..Envelope::for_payload(payload)
    };
    let mut tx = pool.begin().await.unwrap();
    bus::outbox::enqueue(&mut tx, &envelope).await.unwrap();
    tx.commit().await.unwrap();
}
