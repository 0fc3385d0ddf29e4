//! Batches for unordered consumers: the messages that arrived together are handled in one
//! transaction (one inbox statement, one commit), falling back to one at a time when any of
//! them fails.

use std::time::Instant;

use async_nats::jetstream::Message;
use prost::Message as _;
use proto::Envelope;
use sqlx::PgPool;
use tracing::Instrument;

use super::{Outcome, Worker};
use crate::inbox::{self, Handler, HandlerError};
use crate::wake::Notify;
use platform::errors::ErrorChain;

/// Delivers `envelopes` to `handler` in one transaction: claims them in the inbox with one
/// statement, hands those not handled before to [`Handler::handle_batch`] in order, commits.
/// Returns each envelope's outcome in order. Any failure rolls back all of them. As with
/// [`crate::deliver`], outbox rows wake the relay by NOTIFY.
///
/// # Errors
/// The handler's error, or a retryable one when the database fails.
pub async fn deliver_batch<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    envelopes: &[&Envelope],
) -> Result<Vec<Outcome>, HandlerError> {
    let span = tracing::Span::none();
    deliver_traced(pool, consumer, handler, envelopes, span, Notify::AtCommit).await
}

async fn deliver_traced<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    envelopes: &[&Envelope],
    span: tracing::Span,
    notify: Notify,
) -> Result<Vec<Outcome>, HandlerError> {
    let mut tx = pool.begin().await?;
    let claimed = inbox::claim_many(&mut tx, consumer, envelopes, notify).await?;
    let fresh: Vec<&Envelope> = envelopes
        .iter()
        .zip(&claimed)
        .filter(|(_, new)| **new)
        .map(|(envelope, _)| *envelope)
        .collect();
    if !fresh.is_empty() {
        handler
            .handle_batch(&mut tx, &fresh)
            .instrument(span)
            .await?;
    }
    tx.commit().await?;
    Ok(claimed
        .into_iter()
        .map(|new| {
            if new {
                Outcome::Handled
            } else {
                Outcome::Duplicate
            }
        })
        .collect())
}

/// The span a batch is handled in: a trace of its own, linked to each message's producer
/// (a span has one parent, and the batch continues many traces).
fn batch_span(consumer: &str, messages: &[(Message, Envelope)]) -> tracing::Span {
    let span = tracing::info_span!(
        "consume_batch",
        consumer,
        event_type = messages.first().map_or("", |(_, e)| e.r#type.as_str()),
        events = messages.len(),
    );
    for (message, _) in messages {
        if let Some(headers) = message.headers.as_ref() {
            platform::trace_context::link_from_nats(&span, headers);
        }
    }
    span
}

impl<H: Handler> Worker<H> {
    /// Handles `messages` (those that arrived together): one alone as usual, several in one
    /// transaction, and each on its own when that transaction fails.
    pub(super) async fn process_all(&self, messages: Vec<Message>) {
        if messages.len() <= 1 {
            for message in messages {
                self.process(message).await;
            }
            return;
        }
        let mut decoded = Vec::with_capacity(messages.len());
        for message in messages {
            match Envelope::decode(message.payload.clone()) {
                Ok(envelope) => decoded.push((message, envelope)),
                // Dead-lettered there, with its reason.
                Err(_) => _ = self.process(message).await,
            }
        }
        if decoded.is_empty() {
            return;
        }
        metrics::histogram!("bus_consumer_batch_size", "consumer" => self.spec.consumer)
            .record(decoded.len() as f64);
        let envelopes: Vec<&Envelope> = decoded.iter().map(|(_, envelope)| envelope).collect();
        let span = batch_span(self.spec.consumer, &decoded);
        let started = Instant::now();
        let result = deliver_traced(
            &self.pool,
            self.spec.consumer,
            self.handler.as_ref(),
            &envelopes,
            span,
            self.notify(),
        )
        .await;
        match result {
            Ok(outcomes) => {
                let took = started.elapsed().as_secs_f64();
                // Duplicates too, as for a single delivery.
                self.committed(&envelopes).await;
                let acks = decoded.iter().zip(outcomes).map(|((message, _), outcome)| {
                    self.delivery_count(message);
                    metrics::histogram!("bus_handler_seconds", &self.labels()).record(took);
                    self.acknowledge(message, outcome)
                });
                futures::future::join_all(acks).await;
            }
            Err(error) => {
                tracing::debug!(consumer = self.spec.consumer, events = decoded.len(), error = %ErrorChain(&error), "batch failed; handling its messages one at a time");
                for (message, _) in decoded {
                    self.process(message).await;
                }
            }
        }
    }
}
