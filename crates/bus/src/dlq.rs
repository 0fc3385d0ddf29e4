//! Dead letters: messages a consumer gave up on, kept on `josh.dlq.<consumer>` with the reason,
//! listable and replayable by ops.

use std::fmt;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, Message};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::BusError;
use crate::subjects::{DLQ_PREFIX, DLQ_STREAM, dlq_subject};
use platform::errors::ErrorChain;

const REASON: &str = "Josh-Dlq-Reason";
const ORIGINAL_SUBJECT: &str = "Josh-Original-Subject";
const ORIGINAL_SEQUENCE: &str = "Josh-Original-Sequence";
const DELIVERIES: &str = "Josh-Deliveries";
const FAILED_AT: &str = "Josh-Failed-At";
const DURABLE: &str = "Josh-Durable";
/// Reasons are cut to this many bytes (they are for humans; logs have the rest).
const MAX_REASON: usize = 1000;

/// Why a message was dead-lettered: a summary and the error chain.
#[derive(Debug, Clone)]
pub struct DeadLetterReason(String);

impl DeadLetterReason {
    /// A reason from a summary and the error that caused it.
    pub fn new(summary: &str, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut text = format!("{summary}: {}", ErrorChain(error));
        if text.len() > MAX_REASON {
            let mut cut = MAX_REASON;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Self(text)
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Publishes `message` to `consumer`'s dead-letter subject with the reason and where it came
/// from, and waits for the stream's ack.
///
/// # Errors
/// [`BusError::Publish`] when JetStream does not store it.
pub async fn publish(
    js: &jetstream::Context,
    consumer: &str,
    message: &Message,
    delivered: i64,
    reason: &DeadLetterReason,
) -> Result<(), BusError> {
    let info = message.info().ok();
    let sequence = info.as_ref().map_or(0, |i| i.stream_sequence);
    let mut headers = HeaderMap::new();
    headers.insert(REASON, reason.0.replace(['\r', '\n'], " ").as_str());
    headers.insert(ORIGINAL_SUBJECT, message.subject.as_str());
    headers.insert(ORIGINAL_SEQUENCE, sequence.to_string().as_str());
    headers.insert(DELIVERIES, delivered.to_string().as_str());
    headers.insert(FAILED_AT, now_rfc3339().as_str());
    if let Some(info) = info.as_ref() {
        headers.insert(DURABLE, info.consumer);
    }
    // One dead letter per original message, even if dead-lettering itself is retried.
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("dlq:{consumer}:{sequence}").as_str(),
    );
    if let Some(tp) = message.headers.as_ref().and_then(|h| h.get("traceparent")) {
        headers.insert("traceparent", tp.as_str());
    }
    let subject = dlq_subject(consumer);
    js.publish_with_headers(subject.clone(), headers, message.payload.clone())
        .await
        .map_err(|e| BusError::publish(&subject, e))?
        .await
        .map_err(|e| BusError::publish(&subject, e))?;
    Ok(())
}

/// A message a consumer gave up on.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream (what replay takes).
    pub sequence: u64,
    /// The consumer that gave up.
    pub consumer: String,
    /// Where it was originally published.
    pub original_subject: String,
    /// Why.
    pub reason: String,
    /// Deliveries attempted.
    pub deliveries: String,
    /// When it was dead-lettered (RFC 3339).
    pub failed_at: String,
    /// The original payload (an encoded envelope; never a plaintext body).
    pub payload: bytes::Bytes,
}

/// Lists up to `limit` dead letters, oldest first, of one consumer or of all.
///
/// # Errors
/// [`BusError::Stream`] when the dead-letter stream cannot be read.
pub async fn list(
    js: &jetstream::Context,
    consumer: Option<&str>,
    limit: usize,
) -> Result<Vec<DeadLetter>, BusError> {
    let stream = dlq_stream(js).await?;
    let filter = consumer.map_or_else(|| format!("{DLQ_PREFIX}.>"), dlq_subject);
    let mut letters = Vec::new();
    let mut next = 1_u64;
    while letters.len() < limit {
        let Ok(raw) = stream
            .direct_get_next_for_subject(filter.as_str(), Some(next))
            .await
        else {
            break; // no more messages for the filter
        };
        next = raw.sequence + 1;
        letters.push(to_dead_letter(&raw));
    }
    Ok(letters)
}

/// Publishes dead letter `sequence` again to its original subject (with a fresh dedupe id so
/// JetStream accepts it) and removes it from the dead-letter stream. Consumers that already
/// handled it skip it through their inbox.
///
/// # Errors
/// [`BusError::NoSuchDeadLetter`] for an unknown sequence; [`BusError::Publish`] when the
/// republish fails (the dead letter is kept).
pub async fn replay(js: &jetstream::Context, sequence: u64) -> Result<DeadLetter, BusError> {
    let stream = dlq_stream(js).await?;
    let raw = stream
        .get_raw_message(sequence)
        .await
        .map_err(|_| BusError::NoSuchDeadLetter(sequence))?;
    let letter = to_dead_letter(&raw);
    let mut headers = HeaderMap::new();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("replay:{sequence}:{}", now_rfc3339()).as_str(),
    );
    headers.insert("Josh-Replayed-From", sequence.to_string().as_str());
    js.publish_with_headers(
        letter.original_subject.clone(),
        headers,
        letter.payload.clone(),
    )
    .await
    .map_err(|e| BusError::publish(&letter.original_subject, e))?
    .await
    .map_err(|e| BusError::publish(&letter.original_subject, e))?;
    stream
        .delete_message(sequence)
        .await
        .map_err(|e| BusError::Stream {
            stream: DLQ_STREAM.to_owned(),
            source: Box::new(e),
        })?;
    Ok(letter)
}

async fn dlq_stream(js: &jetstream::Context) -> Result<jetstream::stream::Stream, BusError> {
    js.get_stream(DLQ_STREAM)
        .await
        .map_err(|e| BusError::Stream {
            stream: DLQ_STREAM.to_owned(),
            source: Box::new(e),
        })
}

fn to_dead_letter(raw: &jetstream::message::StreamMessage) -> DeadLetter {
    let header = |name: &str| {
        raw.headers
            .get(name)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default()
    };
    DeadLetter {
        sequence: raw.sequence,
        consumer: raw
            .subject
            .as_str()
            .strip_prefix(&format!("{DLQ_PREFIX}."))
            .unwrap_or_default()
            .to_owned(),
        original_subject: header(ORIGINAL_SUBJECT),
        reason: header(REASON),
        deliveries: header(DELIVERIES),
        failed_at: header(FAILED_AT),
        payload: raw.payload.clone(),
    }
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
