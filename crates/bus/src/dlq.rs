//! Dead letters: messages a consumer gave up on, kept on `josh.dlq.<consumer>` with the reason,
//! listable, replayable and discardable by ops (through each service's `DeadLetters` admin API).
//!
//! A replay publishes the original payload again to its original subject. The envelope keeps its
//! event id, so every consumer that handled it already skips it through its inbox; only the one
//! that gave up handles it (once). A replayed message carries what the dead letter knew (first
//! failure, attempts, replays) for its consumer, so a letter that fails again keeps its history.

use std::fmt;

use async_nats::HeaderMap;
use async_nats::jetstream::stream::RawMessageErrorKind;
use async_nats::jetstream::{self, Message};
use prost::Message as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod filter;

pub use filter::{Filter, subject_matches};

use crate::BusError;
use crate::subjects::{DLQ_PREFIX, DLQ_STREAM, dlq_subject};
use platform::errors::ErrorChain;

const REASON: &str = "Josh-Dlq-Reason";
const ORIGINAL_SUBJECT: &str = "Josh-Original-Subject";
const ORIGINAL_SEQUENCE: &str = "Josh-Original-Sequence";
const DELIVERIES: &str = "Josh-Deliveries";
const FAILED_AT: &str = "Josh-Failed-At";
const DURABLE: &str = "Josh-Durable";
/// When the event first failed for good (kept across replays).
const FIRST_FAILED_AT: &str = "Josh-First-Failed-At";
/// Deliveries before the replay that produced this message.
const PRIOR_ATTEMPTS: &str = "Josh-Prior-Attempts";
/// Replays of the event so far.
const REPLAYS: &str = "Josh-Replays";
/// On a replayed message: the consumer it was replayed for (the history above is that one's).
const REPLAYED_FOR: &str = "Josh-Replayed-For";
/// On a replayed message: the dead letter's sequence.
const REPLAYED_FROM: &str = "Josh-Replayed-From";
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

/// Publishes `message` to `consumer`'s dead-letter subject with the reason, where it came from and
/// its history (carried by a replay for this consumer), and waits for the stream's ack.
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
    let now = now_rfc3339();
    let history = History::carried(message.headers.as_ref(), consumer);
    let attempts = history
        .prior_attempts
        .saturating_add(u64::try_from(delivered).unwrap_or(0));
    let mut headers = HeaderMap::new();
    headers.insert(REASON, reason.0.replace(['\r', '\n'], " ").as_str());
    headers.insert(ORIGINAL_SUBJECT, message.subject.as_str());
    headers.insert(ORIGINAL_SEQUENCE, sequence.to_string().as_str());
    headers.insert(DELIVERIES, attempts.to_string().as_str());
    headers.insert(FAILED_AT, now.as_str());
    headers.insert(
        FIRST_FAILED_AT,
        history.first_failed_at.as_deref().unwrap_or(now.as_str()),
    );
    headers.insert(REPLAYS, history.replays.to_string().as_str());
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

/// What a replayed message tells a consumer that gives up on it again.
#[derive(Debug, Default)]
struct History {
    first_failed_at: Option<String>,
    prior_attempts: u64,
    replays: u32,
}

impl History {
    /// The history on `headers` if they belong to a replay for `consumer` (another consumer of
    /// the same subject failing on a replayed message starts its own).
    fn carried(headers: Option<&HeaderMap>, consumer: &str) -> Self {
        let Some(headers) = headers else {
            return Self::default();
        };
        if headers.get(REPLAYED_FOR).map(|v| v.as_str()) != Some(consumer) {
            return Self::default();
        }
        let value = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
        Self {
            first_failed_at: value(FIRST_FAILED_AT),
            prior_attempts: value(PRIOR_ATTEMPTS)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            replays: value(REPLAYS).and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }
}

/// A message a consumer gave up on. Holds no body in plaintext: the payload is the encoded
/// envelope (bodies travel encrypted), and [`DeadLetter::payload_type`] / `event_id` describe it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its sequence in the dead-letter stream (its id: what replay and discard take).
    pub sequence: u64,
    /// The consumer that gave up.
    pub consumer: String,
    /// Where it was originally published.
    pub original_subject: String,
    /// Why.
    pub reason: String,
    /// Deliveries attempted, over every earlier replay too.
    pub attempts: u64,
    /// Replays of it that failed again.
    pub replays: u32,
    /// When it was first dead-lettered by this consumer.
    pub first_failed_at: Option<OffsetDateTime>,
    /// When this dead letter was written (the last failed delivery).
    pub failed_at: Option<OffsetDateTime>,
    /// The envelope's type (e.g. `sms.received`); empty when the payload does not decode.
    pub payload_type: String,
    /// The envelope's event id; empty when the payload does not decode.
    pub event_id: String,
    /// The original payload (an encoded envelope; never a plaintext body).
    pub payload: bytes::Bytes,
}

/// A page of dead letters.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Oldest first.
    pub letters: Vec<DeadLetter>,
    /// More matched than `limit`.
    pub truncated: bool,
}

/// Up to `limit` dead letters matching `filter` with a sequence in `from..=up_to`, oldest first.
///
/// # Errors
/// [`BusError::Stream`] when the dead-letter stream cannot be read.
pub async fn find(
    js: &jetstream::Context,
    filter: &Filter,
    from: u64,
    up_to: u64,
    limit: usize,
) -> Result<Page, BusError> {
    let stream = dlq_stream(js).await?;
    let subject = filter.stream_filter();
    let mut page = Page::default();
    let mut next = from.max(1);
    while next <= up_to {
        let raw = match stream
            .direct_get_next_for_subject(subject.as_str(), Some(next))
            .await
        {
            Ok(raw) => raw,
            Err(e) if e.kind() == jetstream::stream::DirectGetErrorKind::NotFound => break,
            Err(e) => return Err(stream_error(e)),
        };
        if raw.sequence > up_to {
            break;
        }
        next = raw.sequence + 1;
        let letter = to_dead_letter(&raw);
        if !filter.matches(&letter) {
            continue;
        }
        if page.letters.len() == limit {
            page.truncated = true;
            break;
        }
        page.letters.push(letter);
    }
    Ok(page)
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
    let filter = Filter {
        consumer: consumer.map(str::to_owned),
        subject: None,
    };
    Ok(find(js, &filter, 1, u64::MAX, limit).await?.letters)
}

/// The dead-letter stream's last sequence (a replay of "all" stops there, so letters that fail
/// again during it are not replayed in a loop).
///
/// # Errors
/// [`BusError::Stream`] when the stream cannot be read.
pub async fn last_sequence(js: &jetstream::Context) -> Result<u64, BusError> {
    let stream = dlq_stream(js).await?;
    let info = stream.get_info().await.map_err(stream_error)?;
    Ok(info.state.last_sequence)
}

/// Dead letter `sequence`.
///
/// # Errors
/// [`BusError::NoSuchDeadLetter`] when there is none; [`BusError::Stream`] otherwise.
pub async fn get(js: &jetstream::Context, sequence: u64) -> Result<DeadLetter, BusError> {
    let stream = dlq_stream(js).await?;
    match stream.get_raw_message(sequence).await {
        Ok(raw) => Ok(to_dead_letter(&raw)),
        Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => {
            Err(BusError::NoSuchDeadLetter(sequence))
        }
        Err(e) => Err(stream_error(e)),
    }
}

/// Publishes dead letter `sequence` again to its original subject and removes it from the
/// dead-letter stream; see [`replay_letter`].
///
/// # Errors
/// As [`get`] and [`replay_letter`].
pub async fn replay(js: &jetstream::Context, sequence: u64) -> Result<DeadLetter, BusError> {
    let letter = get(js, sequence).await?;
    replay_letter(js, &letter).await?;
    Ok(letter)
}

/// Publishes `letter` again to its original subject, then removes it from the dead-letter
/// stream. Its `Nats-Msg-Id` names the dead letter, so two replays of one letter within the
/// stream's duplicate window publish once; outside it the consumers' inboxes skip the second.
///
/// # Errors
/// [`BusError::Publish`] when the republish fails (the dead letter is kept);
/// [`BusError::Stream`] when it cannot be removed afterwards (a later replay is harmless).
pub async fn replay_letter(js: &jetstream::Context, letter: &DeadLetter) -> Result<(), BusError> {
    let mut headers = HeaderMap::new();
    let id = format!(
        "replay:{}:{}:{}",
        letter.consumer, letter.sequence, letter.event_id
    );
    headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
    headers.insert(REPLAYED_FROM, letter.sequence.to_string().as_str());
    headers.insert(REPLAYED_FOR, letter.consumer.as_str());
    headers.insert(PRIOR_ATTEMPTS, letter.attempts.to_string().as_str());
    headers.insert(
        REPLAYS,
        (letter.replays.saturating_add(1)).to_string().as_str(),
    );
    if let Some(first) = letter.first_failed_at.and_then(|t| t.format(&Rfc3339).ok()) {
        headers.insert(FIRST_FAILED_AT, first.as_str());
    }
    let subject = &letter.original_subject;
    js.publish_with_headers(subject.clone(), headers, letter.payload.clone())
        .await
        .map_err(|e| BusError::publish(subject, e))?
        .await
        .map_err(|e| BusError::publish(subject, e))?;
    remove(js, letter.sequence).await.map(|_| ())
}

/// Removes dead letter `sequence` without replaying it; false when it was gone already.
///
/// # Errors
/// [`BusError::Stream`] when the stream cannot be changed.
pub async fn remove(js: &jetstream::Context, sequence: u64) -> Result<bool, BusError> {
    let stream = dlq_stream(js).await?;
    match stream.delete_message(sequence).await {
        Ok(deleted) => Ok(deleted),
        // Deleted concurrently (another replica's replay or discard)?
        Err(error) => match get(js, sequence).await {
            Err(BusError::NoSuchDeadLetter(_)) => Ok(false),
            _ => Err(stream_error(error)),
        },
    }
}

async fn dlq_stream(js: &jetstream::Context) -> Result<jetstream::stream::Stream, BusError> {
    js.get_stream(DLQ_STREAM).await.map_err(stream_error)
}

fn stream_error(e: impl std::error::Error + Send + Sync + 'static) -> BusError {
    BusError::Stream {
        stream: DLQ_STREAM.to_owned(),
        source: Box::new(e),
    }
}

fn to_dead_letter(raw: &jetstream::message::StreamMessage) -> DeadLetter {
    let header = |name: &str| {
        raw.headers
            .get(name)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default()
    };
    let at = |name: &str| OffsetDateTime::parse(&header(name), &Rfc3339).ok();
    let envelope = proto::Envelope::decode(raw.payload.clone()).ok();
    let failed_at = at(FAILED_AT);
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
        attempts: header(DELIVERIES).parse().unwrap_or(0),
        replays: header(REPLAYS).parse().unwrap_or(0),
        first_failed_at: at(FIRST_FAILED_AT).or(failed_at),
        failed_at,
        payload_type: envelope
            .as_ref()
            .map(|e| e.r#type.clone())
            .unwrap_or_default(),
        event_id: envelope.map(|e| e.event_id).unwrap_or_default(),
        payload: raw.payload.clone(),
    }
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
