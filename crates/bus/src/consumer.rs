//! Runs a [`Handler`] over a [`ConsumerSpec`]'s durable consumers: decode, claim in the inbox,
//! handle, commit, then ack; retry with backoff; dead-letter what cannot succeed.

use std::sync::Arc;
use std::time::Instant;

use async_nats::jetstream::{self, AckKind, Message};
use prost::Message as _;
use proto::Envelope;
use sqlx::PgPool;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::BusError;
use crate::dlq::{self, DeadLetterReason};
use crate::inbox::{self, Handler, HandlerError};
use crate::topology::{ConsumerSpec, Ordering, ensure_consumers};
use crate::wake::{self, Notify, RelayWaker};
use platform::errors::ErrorChain;

mod batch;
mod merged;
mod progress;
mod puller;

pub use batch::deliver_batch;
use puller::Puller;

/// What happened to one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler ran and its effects committed.
    Handled,
    /// The event was handled before; acknowledged without effect.
    Duplicate,
    /// The handler failed; the message will be redelivered after a delay.
    Retrying,
    /// The message went to the dead-letter subject.
    DeadLettered,
}

/// A running consumer: one task per durable consumer of the spec.
#[derive(Debug)]
pub struct ConsumerRunner<H> {
    js: jetstream::Context,
    pool: PgPool,
    spec: Arc<ConsumerSpec>,
    handler: Arc<H>,
    waker: Option<RelayWaker>,
}

impl<H: Handler> ConsumerRunner<H> {
    /// A runner of `handler` for `spec`. Its transactions' outbox rows wake the relay by
    /// Postgres NOTIFY unless a waker is given ([`ConsumerRunner::with_waker`]).
    pub fn new(js: jetstream::Context, pool: PgPool, spec: ConsumerSpec, handler: H) -> Self {
        Self {
            js,
            pool,
            spec: Arc::new(spec),
            handler: Arc::new(handler),
            waker: None,
        }
    }

    /// Wakes the service's relay with `waker` after each commit instead of by NOTIFY
    /// ([`crate::wake`]: notifying commits are serialized).
    pub fn with_waker(mut self, waker: RelayWaker) -> Self {
        self.waker = Some(waker);
        self
    }

    /// Creates the durable consumers, then consumes until `shutdown` fires; in-flight messages
    /// finish before it returns.
    ///
    /// # Errors
    /// [`BusError`] when the consumers cannot be created.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), BusError> {
        let consumers = self.create().await?;
        self.consume(consumers, shutdown).await;
        Ok(())
    }

    /// Creates (or updates) the spec's durable consumers: from then on the server keeps every
    /// message for them, whether or not anyone is pulling yet.
    ///
    /// # Errors
    /// [`BusError`] when JetStream refuses a stream lookup or a consumer definition.
    pub async fn create(&self) -> Result<Vec<jetstream::consumer::PullConsumer>, BusError> {
        ensure_consumers(&self.js, &self.spec).await
    }

    /// Consumes from `consumers` (what [`ConsumerRunner::create`] returned) until `shutdown`
    /// fires; in-flight messages finish before it returns.
    pub async fn consume(
        self,
        consumers: Vec<jetstream::consumer::PullConsumer>,
        shutdown: CancellationToken,
    ) {
        let worker = Worker {
            js: self.js,
            pool: self.pool,
            spec: self.spec,
            handler: self.handler,
            waker: self.waker,
        };
        if worker.spec.ordering == Ordering::PerKey && worker.spec.batch > 1 {
            let transactions = consumers.len().div_ceil(worker.spec.batch);
            merged::run(worker, consumers, transactions, shutdown).await;
            return;
        }
        let mut tasks = JoinSet::new();
        for consumer in consumers {
            tasks.spawn(worker.clone().run(consumer, shutdown.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// Delivers one envelope to `handler` as `consumer` would: in one transaction, claim the event
/// in the inbox (a duplicate is skipped), handle it, commit. Tests use it to drive a handler
/// without a broker; its outbox rows wake the relay by NOTIFY, and [`Handler::committed`] is
/// not called.
///
/// # Errors
/// The handler's error, or a retryable one when the database fails; nothing is committed then.
pub async fn deliver<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    envelope: &Envelope,
) -> Result<Outcome, HandlerError> {
    deliver_with(pool, consumer, handler, envelope, Notify::AtCommit).await
}

/// [`deliver`], with `notify` saying who wakes the relay.
async fn deliver_with<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    envelope: &Envelope,
    notify: Notify,
) -> Result<Outcome, HandlerError> {
    let mut tx = pool.begin().await?;
    if !inbox::claim(&mut tx, consumer, envelope, notify).await? {
        tx.commit().await?;
        return Ok(Outcome::Duplicate);
    }
    handler.handle(&mut tx, envelope).await?;
    tx.commit().await?;
    Ok(Outcome::Handled)
}

/// How many times the server has delivered `message` (1 the first time).
fn delivery_number(message: &Message) -> i64 {
    message.info().map(|i| i.delivered).unwrap_or(1)
}

struct Worker<H> {
    js: jetstream::Context,
    pool: PgPool,
    spec: Arc<ConsumerSpec>,
    handler: Arc<H>,
    waker: Option<RelayWaker>,
}

impl<H> Clone for Worker<H> {
    fn clone(&self) -> Self {
        Self {
            js: self.js.clone(),
            pool: self.pool.clone(),
            spec: self.spec.clone(),
            handler: self.handler.clone(),
            waker: self.waker.clone(),
        }
    }
}

impl<H: Handler> Worker<H> {
    async fn run(self, consumer: jetstream::consumer::PullConsumer, shutdown: CancellationToken) {
        let concurrency = match self.spec.ordering {
            Ordering::PerKey => 1,
            Ordering::Unordered { concurrency } => concurrency.max(1),
        };
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut in_flight = JoinSet::new();
        let mut puller = Puller::new(self.spec.consumer, consumer);
        while let Some(message) = puller.next(&shutdown).await {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let batch = puller.with_ready(message, self.spec.batch_size());
            let worker = self.clone();
            in_flight.spawn(async move {
                worker.handle_in_progress(batch).await;
                drop(permit);
            });
            // Reap finished tasks so the set does not grow.
            while in_flight.try_join_next().is_some() {}
        }
        while in_flight.join_next().await.is_some() {}
        puller.release(Vec::new()).await;
    }

    /// Handles one delivery end to end and settles it with the server.
    async fn process(&self, message: Message) -> Outcome {
        let delivered = self.delivery_count(&message);
        let labels = self.labels();
        let envelope = match Envelope::decode(message.payload.clone()) {
            Ok(envelope) => envelope,
            Err(error) => {
                let reason = DeadLetterReason::new("undecodable envelope", &error);
                return self.dead_letter(&message, delivered, reason).await;
            }
        };
        let span = self.span(&message, &envelope, delivered);
        let started = Instant::now();
        let result = self.handle(&envelope).instrument(span).await;
        metrics::histogram!("bus_handler_seconds", &labels).record(started.elapsed().as_secs_f64());
        match result {
            Ok(outcome) => {
                // A duplicate too: its first delivery may have committed with its answer lost,
                // and so without a wake-up.
                self.committed(&[&envelope]).await;
                self.acknowledge(&message, outcome).await;
                outcome
            }
            Err(HandlerError::Retry(error)) if delivered < self.spec.max_deliver => {
                metrics::counter!("bus_consumer_failed_total", &labels).increment(1);
                let delay = self.spec.retry_delay(delivered);
                tracing::warn!(consumer = self.spec.consumer, event_id = %envelope.event_id, delivered, ?delay, error = %ErrorChain(error.as_ref()), "handler failed; will retry");
                if let Err(error) = message.ack_with(AckKind::Nak(Some(delay))).await {
                    tracing::warn!(consumer = self.spec.consumer, error = %error, "nak failed");
                }
                Outcome::Retrying
            }
            Err(HandlerError::Retry(error) | HandlerError::Reject(error)) => {
                metrics::counter!("bus_consumer_failed_total", &labels).increment(1);
                let reason = DeadLetterReason::new("handler failed", error.as_ref());
                let outcome = self.dead_letter(&message, delivered, reason).await;
                if outcome == Outcome::DeadLettered {
                    self.handler.dead_lettered(&self.pool, &envelope).await;
                }
                outcome
            }
        }
    }

    fn labels(&self) -> [(&'static str, &'static str); 2] {
        [
            ("consumer", self.spec.consumer),
            ("type", self.spec.payload.type_name),
        ]
    }

    /// The message's delivery number (1 the first time), counting redeliveries.
    fn delivery_count(&self, message: &Message) -> i64 {
        let delivered = delivery_number(message);
        if delivered > 1 {
            metrics::counter!("bus_consumer_redelivered_total", &self.labels()).increment(1);
        }
        delivered
    }

    /// The span handling `envelope` runs in, continuing the producer's trace.
    fn span(&self, message: &Message, envelope: &Envelope, delivered: i64) -> tracing::Span {
        let span = tracing::info_span!(
            "consume",
            consumer = self.spec.consumer,
            event_type = %envelope.r#type,
            event_id = %envelope.event_id,
            delivered,
        );
        if let Some(headers) = message.headers.as_ref() {
            platform::trace_context::set_parent_from_nats(&span, headers);
        }
        span
    }

    /// Acknowledges a message whose effects committed (or that was handled before). A plain
    /// ack, not one the server confirms: a lost ack only means a redelivery, which the inbox
    /// answers as a duplicate, and the confirmation cost a message and a wake-up per event
    /// (docs/benchmarks.md, session 15: NATS's CPU per text fell about a tenth).
    async fn acknowledge(&self, message: &Message, outcome: Outcome) {
        if let Err(error) = message.ack().await {
            // Redelivery will find the inbox record and ack then.
            tracing::warn!(consumer = self.spec.consumer, error = %error, "ack failed");
        }
        let name = if outcome == Outcome::Handled {
            "bus_consumer_handled_total"
        } else {
            "bus_consumer_duplicates_total"
        };
        metrics::counter!(name, &self.labels()).increment(1);
    }

    async fn handle(&self, envelope: &Envelope) -> Result<Outcome, HandlerError> {
        deliver_with(
            &self.pool,
            self.spec.consumer,
            self.handler.as_ref(),
            envelope,
            self.notify(),
        )
        .await
    }

    /// Who tells the relay about this worker's outbox rows.
    fn notify(&self) -> Notify {
        Notify::by(self.waker.as_ref())
    }

    /// After `envelopes`' effects committed: wakes the relay (when this worker does so instead
    /// of NOTIFY), then the handler's own hook.
    async fn committed(&self, envelopes: &[&Envelope]) {
        wake::after_commit(self.waker.as_ref()).await;
        self.handler.committed(envelopes).await;
    }

    async fn dead_letter(
        &self,
        message: &Message,
        delivered: i64,
        reason: DeadLetterReason,
    ) -> Outcome {
        let labels = self.labels();
        match dlq::publish(&self.js, self.spec.consumer, message, delivered, &reason).await {
            Ok(()) => {
                metrics::counter!("bus_consumer_dead_lettered_total", &labels).increment(1);
                tracing::error!(consumer = self.spec.consumer, delivered, reason = %reason, "message dead-lettered");
                if let Err(error) = message.ack_with(AckKind::Term).await {
                    tracing::warn!(consumer = self.spec.consumer, error = %error, "term failed");
                }
                Outcome::DeadLettered
            }
            Err(error) => {
                // Keep the message: it is redelivered (or, past max deliveries, stays in the
                // stream for ops to replay by sequence).
                tracing::error!(consumer = self.spec.consumer, error = %ErrorChain(&error), "dead-lettering failed");
                let _ = message
                    .ack_with(AckKind::Nak(Some(self.spec.retry_delay(delivered))))
                    .await;
                Outcome::Retrying
            }
        }
    }
}
