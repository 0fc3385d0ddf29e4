//! A world for the DeadLetters API: a real database, a private nats-server, a real consumer
//! (`linkup-matcher`, reading `identity.profile_updated`) whose handler fails while told to, a
//! second consumer of the same events that always succeeds (a bystander: a replay reaches it
//! too), and the API for the first consumer served on port 0.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use admin_auth::testing;
use async_nats::jetstream;
use bus::dlq::DeadLetter;
use bus::{ConsumerRunner, ConsumerSpec, Handler, HandlerError};
use dlq_admin::DeadLettersApi;
use prost::Message as _;
use proto::Envelope;
use rpc::admin::v1::dead_letters_client::DeadLettersClient;
use sqlx::PgConnection;
use testkit::{NatsServer, TestDb, wait_until};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Channel;

/// The consuming service of these tests (the API serves its dead letters).
pub const CONSUMER: &str = "linkup-matcher";
/// Another service consuming the same events, which never fails.
pub const BYSTANDER: &str = "conversation-router";
/// Every wait in these tests.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct World {
    pub db: TestDb,
    pub nats: NatsServer,
    pub js: jetstream::Context,
    pub recorder: Recorder,
    /// Event ids the bystander handled, in order.
    pub bystander: Arc<Mutex<Vec<String>>>,
    pub client: DeadLettersClient<Channel>,
    pub shutdown: CancellationToken,
}

impl World {
    /// Everything running, the handler failing until told otherwise.
    pub async fn start() -> Self {
        let db = TestDb::migrated().await.unwrap();
        sqlx::raw_sql(
            "create table test_effects (event_id uuid not null);
             grant select, insert on test_effects to josh_linkup_matcher;",
        )
        .execute(&db.pool)
        .await
        .unwrap();
        let nats = NatsServer::start().await.unwrap();
        let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
        bus::ensure_streams(&js, 1).await.unwrap();
        let pool = db.pool_as("josh_linkup_matcher").await.unwrap();
        let recorder = Recorder::default();
        recorder.failing.store(true, Ordering::SeqCst);
        let shutdown = CancellationToken::new();
        let runner = ConsumerRunner::new(js.clone(), pool.clone(), spec(), recorder.clone());
        tokio::spawn(runner.run(shutdown.clone()));
        let bystander = Bystander::default();
        let other_pool = db.pool_as("josh_conversation_router").await.unwrap();
        let runner =
            ConsumerRunner::new(js.clone(), other_pool, bystander_spec(), bystander.clone());
        tokio::spawn(runner.run(shutdown.clone()));
        let api = DeadLettersApi::new(pool, js.clone(), CONSUMER);
        let served = testing::serve(Routes::new(api.into_server())).await;
        Self {
            db,
            nats,
            js,
            recorder,
            bystander: bystander.handled,
            client: DeadLettersClient::new(served.channel),
            shutdown,
        }
    }

    pub async fn token(&self, role: &str) -> String {
        testing::token(&self.db.pool, role).await
    }

    /// Publishes `envelope` as its producer's relay would.
    pub async fn publish(&self, envelope: &Envelope) -> u64 {
        let subject = bus::subjects::subject_of(envelope).unwrap();
        self.publish_as(subject, &envelope.event_id, envelope.encode_to_vec())
            .await
    }

    /// Publishes raw bytes to `subject` with `msg_id`; returns the stream sequence.
    pub async fn publish_as(&self, subject: String, msg_id: &str, payload: Vec<u8>) -> u64 {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, msg_id);
        self.js
            .publish_with_headers(subject, headers, payload.into())
            .await
            .unwrap()
            .await
            .unwrap()
            .sequence
    }

    /// The consumer's dead letters, straight from the stream.
    pub async fn letters(&self) -> Vec<DeadLetter> {
        bus::dlq::list(&self.js, Some(CONSUMER), 100).await.unwrap()
    }

    /// Publishes `envelope` and waits until the (failing) consumer dead-letters it.
    pub async fn dead_letter(&self, envelope: &Envelope) -> DeadLetter {
        self.publish(envelope).await;
        wait_until("the dead letter", DEADLINE, || async {
            self.letters()
                .await
                .iter()
                .any(|l| l.event_id == envelope.event_id)
        })
        .await
        .unwrap();
        self.letters()
            .await
            .into_iter()
            .find(|l| l.event_id == envelope.event_id)
            .unwrap()
    }

    /// Rows the handler committed.
    pub async fn effects(&self) -> i64 {
        sqlx::query_scalar("select count(*) from test_effects")
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Waits until every durable consumer has nothing pending or unacknowledged.
    pub async fn consumer_settled(&self) {
        wait_until("the consumer to settle", DEADLINE, || self.idle())
            .await
            .unwrap();
    }

    async fn idle(&self) -> bool {
        for spec in [spec(), bystander_spec()] {
            if !bus::topology::drained(&self.js, &spec).await.unwrap() {
                return false;
            }
        }
        true
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Two deliveries 20 ms apart, then the dead-letter subject.
pub fn spec() -> ConsumerSpec {
    let payload = proto::catalog::by_type_name("identity.profile_updated").unwrap();
    ConsumerSpec::ordered(CONSUMER, payload).with_retries(2, vec![Duration::from_millis(20)])
}

/// The bystander's consumer of the same events.
pub fn bystander_spec() -> ConsumerSpec {
    let payload = proto::catalog::by_type_name("identity.profile_updated").unwrap();
    ConsumerSpec::ordered(BYSTANDER, payload)
}

/// An event about `user` whose payload carries `marker` (a stand-in for anything private).
pub fn event(user: &str, marker: &str) -> Envelope {
    let payload = proto::v1::ProfileUpdated {
        user_id: user.to_owned(),
        step: marker.to_owned(),
        ..Default::default()
    };
    Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        producer: "conversation-router".to_owned(),
        idempotency_key: format!("{user}:{marker}"),
        partition_key: user.to_owned(),
        ..Envelope::for_payload(payload)
    }
}

/// Records each handled event as a row; fails while `failing`.
#[derive(Clone, Default)]
pub struct Recorder {
    pub failing: Arc<AtomicBool>,
    /// Calls of the handler (a duplicate skipped by the inbox never reaches it).
    pub attempts: Arc<AtomicU32>,
}

#[derive(Debug, thiserror::Error)]
#[error("recorder told to fail")]
pub struct Told;

impl Handler for Recorder {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) {
            return Err(HandlerError::retry(Told));
        }
        sqlx::query("insert into test_effects (event_id) values ($1::uuid)")
            .bind(&envelope.event_id)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Counts the events it handles (through the inbox, like every consumer).
#[derive(Clone, Default)]
pub struct Bystander {
    pub handled: Arc<Mutex<Vec<String>>>,
}

impl Handler for Bystander {
    async fn handle(
        &self,
        _tx: &mut PgConnection,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        self.handled.lock().unwrap().push(envelope.event_id.clone());
        Ok(())
    }
}
