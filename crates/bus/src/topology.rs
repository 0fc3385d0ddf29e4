//! Streams and consumers as code: declared here, created or updated idempotently at start.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use crate::BusError;
use proto::{MessageKind, PayloadInfo};

use crate::subjects::{self, COMMANDS_STREAM, DLQ_PREFIX, DLQ_STREAM, EVENTS_STREAM, PARTITIONS};

/// JetStream drops a re-published message whose `Nats-Msg-Id` it saw within this window, which
/// absorbs the outbox relay's republish after a crash between publish and mark.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// Creates or updates the events, commands and dead-letter streams. `replicas` is 1 locally and
/// 3 on the production cluster.
///
/// # Errors
/// [`BusError::Stream`] when JetStream refuses a stream definition.
#[tracing::instrument(skip_all, fields(replicas))]
pub async fn ensure_streams(js: &jetstream::Context, replicas: usize) -> Result<(), BusError> {
    for config in stream_configs(replicas) {
        let name = config.name.clone();
        js.create_or_update_stream(config)
            .await
            .map_err(|e| BusError::Stream {
                stream: name,
                source: Box::new(e),
            })?;
    }
    Ok(())
}

fn stream_configs(replicas: usize) -> [stream::Config; 3] {
    let day = Duration::from_secs(24 * 3600);
    let base = |name: &str, subjects: Vec<String>, max_age: Duration| stream::Config {
        name: name.to_owned(),
        subjects,
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        discard: stream::DiscardPolicy::Old,
        max_age,
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: replicas,
        allow_direct: true,
        ..Default::default()
    };
    [
        base(
            EVENTS_STREAM,
            vec![format!("{}.>", MessageKind::Event.subject_prefix())],
            7 * day,
        ),
        base(
            COMMANDS_STREAM,
            vec![format!("{}.>", MessageKind::Command.subject_prefix())],
            3 * day,
        ),
        base(DLQ_STREAM, vec![format!("{DLQ_PREFIX}.>")], 30 * day),
    ]
}

/// How a consumer's messages may be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// One message at a time per partition key, in publish order (one durable per partition).
    PerKey,
    /// Up to `concurrency` messages at once, in no particular order.
    Unordered {
        /// Messages handled at once.
        concurrency: usize,
    },
}

/// One service consuming one message type.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// The consuming service (names the inbox rows and the dead-letter subject).
    pub consumer: &'static str,
    /// The message type consumed (from the payload catalog).
    pub payload: &'static PayloadInfo,
    /// Ordering guarantee.
    pub ordering: Ordering,
    /// Deliveries before a failing message is dead-lettered.
    pub max_deliver: i64,
    /// How long a delivery may stay unsettled before the server redelivers it. A consumer reports
    /// the messages it is handling in progress every third of it, so this is how long a message
    /// taken by a consumer that died waits, not how long handling may take.
    pub ack_wait: Duration,
    /// Delay before retry N after a failure (the last entry repeats), asked for in the nak.
    pub retry_backoff: Vec<Duration>,
    /// Most messages handled in one transaction (1: one at a time). An ordered consumer still
    /// has one message per partition in flight; its batch holds several partitions' messages.
    pub batch: usize,
}

impl ConsumerSpec {
    /// A per-key ordered consumer with production defaults: 5 deliveries, retries after
    /// 1 s, 5 s, 30 s and 2 min, 10 s ack wait.
    pub fn ordered(consumer: &'static str, payload: &'static PayloadInfo) -> Self {
        Self {
            consumer,
            payload,
            ordering: Ordering::PerKey,
            max_deliver: 5,
            ack_wait: Duration::from_secs(10),
            retry_backoff: [1, 5, 30, 120].map(Duration::from_secs).to_vec(),
            batch: 1,
        }
    }

    /// An unordered consumer handling up to `concurrency` messages at once.
    pub fn unordered(
        consumer: &'static str,
        payload: &'static PayloadInfo,
        concurrency: usize,
    ) -> Self {
        Self {
            ordering: Ordering::Unordered { concurrency },
            ..Self::ordered(consumer, payload)
        }
    }

    /// Lets the consumer handle up to `batch` messages that arrived together in one
    /// transaction: one inbox statement and one commit for all of them. When any of them fails,
    /// the transaction rolls back and each is handled on its own (so only the failing one is
    /// retried or dead-lettered).
    ///
    /// An ordered consumer keeps one message per partition in flight (the next is read only
    /// once the current one is settled), so a batch holds the current messages of up to `batch`
    /// partitions, and at most `PARTITIONS / batch` (rounded up) such transactions run at once.
    pub fn with_batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// How many messages one durable's reader takes together: the batch for an unordered
    /// consumer, one for each partition of an ordered one (whose batches form across
    /// partitions).
    pub fn batch_size(&self) -> usize {
        match self.ordering {
            Ordering::PerKey => 1,
            Ordering::Unordered { .. } => self.batch.max(1),
        }
    }

    /// The consumed type's dotted name, e.g. `sms.received`.
    pub fn type_name(&self) -> &'static str {
        self.payload.type_name
    }

    /// The stream holding the consumed type.
    pub fn stream(&self) -> &'static str {
        subjects::stream_of(self.payload.kind)
    }

    /// Overrides deliveries and retry delays (tests use short ones).
    pub fn with_retries(mut self, max_deliver: i64, retry_backoff: Vec<Duration>) -> Self {
        self.max_deliver = max_deliver;
        self.retry_backoff = retry_backoff;
        self
    }

    /// The delay before the retry following delivery number `delivered` (1-based).
    pub fn retry_delay(&self, delivered: i64) -> Duration {
        let index = usize::try_from(delivered.saturating_sub(1)).unwrap_or(0);
        self.retry_backoff
            .get(index)
            .or(self.retry_backoff.last())
            .copied()
            .unwrap_or(Duration::from_secs(1))
    }

    /// The durable consumers this spec needs: (durable name, filter subject, max ack pending).
    pub fn durables(&self) -> Vec<(String, String, i64)> {
        match self.ordering {
            Ordering::PerKey => (0..PARTITIONS)
                .map(|p| {
                    (
                        subjects::durable_name(self.consumer, self.payload.type_name, Some(p)),
                        subjects::subject(self.payload, p),
                        1,
                    )
                })
                .collect(),
            Ordering::Unordered { concurrency } => vec![(
                subjects::durable_name(self.consumer, self.payload.type_name, None),
                subjects::all_partitions(self.payload),
                // Room for every task's batch, and for the next messages while they commit.
                i64::try_from(concurrency.max(1) * self.batch.max(2)).unwrap_or(i64::MAX),
            )],
        }
    }

    fn pull_config(
        &self,
        durable: &str,
        filter: &str,
        max_ack_pending: i64,
    ) -> consumer::pull::Config {
        // No server-side backoff: with one, the server adds `backoff[n] - ack_wait` to a nak's
        // delay (a 30 s retry took 50 s with a 10 s ack wait, a 120 s one 210 s with 30 s), so
        // the retry schedule lives in the naks alone, and a delivery nobody settles comes back
        // after the ack wait.
        consumer::pull::Config {
            durable_name: Some(durable.to_owned()),
            description: Some(format!(
                "{} reading {}",
                self.consumer, self.payload.type_name
            )),
            filter_subject: filter.to_owned(),
            ack_policy: consumer::AckPolicy::Explicit,
            deliver_policy: consumer::DeliverPolicy::All,
            ack_wait: self.ack_wait,
            max_deliver: self.max_deliver,
            max_ack_pending,
            ..Default::default()
        }
    }
}

/// Creates or updates the durable consumers of `spec`, returning them with their names.
///
/// # Errors
/// [`BusError::Consumer`] when JetStream refuses a consumer definition.
#[tracing::instrument(skip_all, fields(consumer = spec.consumer, type_name = spec.payload.type_name))]
pub async fn ensure_consumers(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
) -> Result<Vec<consumer::PullConsumer>, BusError> {
    let stream = stream_of(js, spec).await?;
    let mut consumers = Vec::new();
    for (durable, filter, max_ack_pending) in spec.durables() {
        let config = spec.pull_config(&durable, &filter, max_ack_pending);
        let consumer = stream
            .create_consumer(config)
            .await
            .map_err(|e| BusError::Consumer {
                consumer: durable.clone(),
                source: Box::new(e),
            })?;
        consumers.push(consumer);
    }
    Ok(consumers)
}

/// True when every durable consumer of `spec` exists and has nothing pending or awaiting an ack:
/// what a drain waits for (before a rollout that re-shards subjects, or in tests).
///
/// # Errors
/// [`BusError::Stream`] or [`BusError::Consumer`] when JetStream cannot be asked.
pub async fn drained(js: &jetstream::Context, spec: &ConsumerSpec) -> Result<bool, BusError> {
    let stream = stream_of(js, spec).await?;
    for (durable, _, _) in spec.durables() {
        let Ok(mut consumer) = stream
            .get_consumer::<consumer::pull::Config>(&durable)
            .await
        else {
            return Ok(false);
        };
        let info = consumer.info().await.map_err(|e| BusError::Consumer {
            consumer: durable.clone(),
            source: Box::new(e),
        })?;
        if info.num_pending > 0 || info.num_ack_pending > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The stream holding `spec`'s messages.
async fn stream_of(
    js: &jetstream::Context,
    spec: &ConsumerSpec,
) -> Result<jetstream::stream::Stream, BusError> {
    js.get_stream(spec.stream())
        .await
        .map_err(|e| BusError::Stream {
            stream: spec.stream().to_owned(),
            source: Box::new(e),
        })
}
