//! A real Postgres database and a private nats-server per test, plus a recording handler.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use bus::{ConsumerRunner, ConsumerSpec, Handler, HandlerError, Relay};
use proto::Envelope;
use proto::v1::ProfileUpdated;
use sqlx::{PgConnection, PgPool};
use testkit::{NatsServer, TestDb, wait_until};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The producing service in these tests, and the consuming one.
pub const PRODUCER: &str = "conversation-router";
pub const CONSUMER: &str = "linkup-matcher";

pub struct Harness {
    pub db: TestDb,
    pub nats: NatsServer,
    pub js: jetstream::Context,
    /// Connected as the producer's role.
    pub producer_pool: PgPool,
    /// Connected as the consumer's role.
    pub consumer_pool: PgPool,
    pub shutdown: CancellationToken,
}

impl Harness {
    pub async fn new() -> Self {
        let db = TestDb::migrated().await.unwrap();
        sqlx::raw_sql(
            "create table test_effects (event_id uuid not null, partition_key text not null, seq int not null,
                                        tx bigint not null default txid_current(), n bigserial);
             grant select, insert on test_effects to josh_linkup_matcher;
             grant usage on sequence test_effects_n_seq to josh_linkup_matcher;",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        let nats = NatsServer::start().await.unwrap();
        let client = async_nats::connect(nats.url()).await.unwrap();
        let js = jetstream::new(client);
        bus::ensure_streams(&js, 1).await.unwrap();
        let producer_pool = db.pool_as("josh_conversation_router").await.unwrap();
        let consumer_pool = db.pool_as("josh_linkup_matcher").await.unwrap();
        Self {
            db,
            nats,
            js,
            producer_pool,
            consumer_pool,
            shutdown: CancellationToken::new(),
        }
    }

    pub fn relay(&self) -> Relay {
        Relay::new(self.producer_pool.clone(), self.js.clone(), PRODUCER)
            .with_poll_interval(Duration::from_millis(50))
    }

    /// Enqueues `envelope` in its own committed transaction.
    pub async fn enqueue(&self, envelope: &Envelope) {
        let mut tx = self.producer_pool.begin().await.unwrap();
        assert!(bus::outbox::enqueue(&mut tx, envelope).await.unwrap());
        tx.commit().await.unwrap();
    }

    pub async fn unpublished(&self) -> i64 {
        sqlx::query_scalar("select count(*) from event_outbox where published_at is null")
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn effects(&self) -> i64 {
        sqlx::query_scalar("select count(*) from test_effects")
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn stream_messages(&self, stream: &str) -> u64 {
        let mut stream = self.js.get_stream(stream).await.unwrap();
        stream.info().await.unwrap().state.messages
    }

    pub fn spec(&self) -> ConsumerSpec {
        ConsumerSpec::ordered(CONSUMER, payload_info())
            .with_retries(3, vec![Duration::from_millis(20)])
    }

    /// Inbox rows of the test consumer.
    pub async fn inbox_rows(&self) -> i64 {
        sqlx::query_scalar("select count(*) from event_inbox where consumer = $1")
            .bind(CONSUMER)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// True once every durable consumer of `spec` has nothing pending or unacknowledged.
    pub async fn idle(&self, spec: &ConsumerSpec) -> bool {
        bus::topology::drained(&self.js, spec).await.unwrap()
    }

    /// Publishes raw bytes straight to JetStream (as a misbehaving producer would).
    pub async fn publish_raw(&self, subject: String, msg_id: &str, payload: Vec<u8>) {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, msg_id);
        self.js
            .publish_with_headers(subject, headers, payload.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
}

/// Listens on the outbox channels of [`PRODUCER`] ("ours") and [`CONSUMER`] ("theirs").
pub struct Channels {
    listener: sqlx::postgres::PgListener,
    pub ours: String,
    pub theirs: String,
}

impl Channels {
    pub async fn listen(h: &Harness) -> Self {
        let mut listener = sqlx::postgres::PgListener::connect_with(&h.db.pool)
            .await
            .unwrap();
        let ours = bus::relay::outbox_channel(PRODUCER);
        let theirs = bus::relay::outbox_channel(CONSUMER);
        listener
            .listen_all([ours.as_str(), theirs.as_str()])
            .await
            .unwrap();
        Self {
            listener,
            ours,
            theirs,
        }
    }

    /// The channels of the next two notifications, in commit order.
    pub async fn next_two(&mut self) -> [String; 2] {
        let mut next = async || {
            tokio::time::timeout(DEADLINE, self.listener.recv())
                .await
                .expect("no notification")
                .unwrap()
                .channel()
                .to_owned()
        };
        [next().await, next().await]
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Deadline for every wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn payload_info() -> &'static proto::PayloadInfo {
    proto::catalog::by_type_name("identity.profile_updated").unwrap()
}

/// Event number `seq` about `user`.
pub fn event(user: &str, seq: u32) -> Envelope {
    let payload = ProfileUpdated {
        user_id: user.to_owned(),
        step: seq.to_string(),
        ..Default::default()
    };
    Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        producer: PRODUCER.to_owned(),
        idempotency_key: format!("{user}:{seq}"),
        partition_key: user.to_owned(),
        ..Envelope::for_payload(payload)
    }
}

/// Records each handled event as a row, and in memory in handling order; fails while told to.
#[derive(Clone, Default)]
pub struct Recorder {
    pub order: Arc<Mutex<Vec<(String, u32)>>>,
    pub attempts: Arc<AtomicU32>,
    /// Fail this many more attempts (u32::MAX: always).
    pub fail_next: Arc<AtomicU32>,
    /// Events the runner told the handler it dead-lettered.
    pub dead_lettered: Arc<AtomicU32>,
}

#[derive(Debug, thiserror::Error)]
#[error("recorder told to fail")]
pub struct Told;

impl Handler for Recorder {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let remaining = self.fail_next.load(Ordering::SeqCst);
        if remaining > 0 {
            if remaining != u32::MAX {
                self.fail_next.fetch_sub(1, Ordering::SeqCst);
            }
            return Err(HandlerError::retry(Told));
        }
        let Some(proto::Payload::ProfileUpdated(p)) = envelope.payload.as_ref() else {
            return Err(HandlerError::reject(Told));
        };
        let seq: i32 = p.step.parse().unwrap();
        sqlx::query(
            "insert into test_effects (event_id, partition_key, seq) values ($1::uuid, $2, $3)",
        )
        .bind(&envelope.event_id)
        .bind(&envelope.partition_key)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        self.order
            .lock()
            .await
            .push((envelope.partition_key.clone(), seq as u32));
        Ok(())
    }

    async fn dead_lettered(&self, _pool: &sqlx::PgPool, _envelope: &Envelope) {
        self.dead_lettered.fetch_add(1, Ordering::SeqCst);
    }
}

/// Each key's handled sequence numbers, in the order their effects were written.
pub async fn committed_order(h: &Harness) -> BTreeMap<String, Vec<i32>> {
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

/// Enqueues `per_user` events for each of `users` users and publishes them all, so a consumer
/// finds every partition full when it starts.
pub async fn publish_grid(h: &Harness, users: u32, per_user: u32) {
    for seq in 0..per_user {
        for user in 0..users {
            h.enqueue(&event(&format!("user-{user:02}"), seq)).await;
        }
    }
    let relay = h.relay();
    while h.unpublished().await > 0 {
        relay.publish_batch().await.unwrap();
    }
}

/// Runs `spec` over what [`publish_grid`] published until some of the `total` events are
/// handled, stops it, then starts it again and waits (within [`DEADLINE`]) for the rest and an
/// idle consumer. Returns how many were handled before the stop.
pub async fn stop_mid_stream_and_restart(h: &Harness, spec: &ConsumerSpec, total: i64) -> i64 {
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
        h.effects().await == total && h.idle(spec).await
    })
    .await
    .unwrap();
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
    handled_before_restart
}
