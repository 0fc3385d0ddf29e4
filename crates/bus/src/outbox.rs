//! The transactional outbox: an event is stored in the same transaction as the state change
//! that caused it, and the [`Relay`](crate::Relay) publishes it afterwards.

use prost::Message;
use proto::Envelope;
use sqlx::PgConnection;

use crate::BusError;
use crate::subjects;
use crate::wake::Notify;

/// An envelope checked and encoded for the outbox, with the trace context of the code that
/// produced it: a row stored later by someone else (a group commit) still continues that trace.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    producer: String,
    event_id: uuid::Uuid,
    subject: String,
    event_type: String,
    idempotency_key: String,
    payload: Vec<u8>,
    headers: serde_json::Value,
}

impl OutboxRow {
    /// Checks and encodes `envelope`, taking the current trace context.
    ///
    /// # Errors
    /// [`BusError::InvalidEnvelope`] when the envelope is malformed or lacks its producer,
    /// idempotency or partition key.
    pub fn prepare(envelope: &Envelope) -> Result<Self, BusError> {
        let subject = subjects::subject_of(envelope)?;
        let event_id = validate(envelope)?;
        let mut headers = std::collections::BTreeMap::new();
        if let Some(tp) = platform::trace_context::current_traceparent() {
            headers.insert("traceparent".to_owned(), tp);
        }
        Ok(Self {
            producer: envelope.producer.clone(),
            event_id,
            subject,
            event_type: envelope.r#type.clone(),
            idempotency_key: envelope.idempotency_key.clone(),
            payload: envelope.encode_to_vec(),
            headers: serde_json::to_value(headers).unwrap_or_default(),
        })
    }

    /// The producing service (`event_outbox.producer`), for a statement that stores the row
    /// itself, e.g. in one statement with the state change that causes it.
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// `event_outbox.event_id`.
    pub fn event_id(&self) -> uuid::Uuid {
        self.event_id
    }

    /// `event_outbox.subject`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// `event_outbox.event_type`.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// `event_outbox.idempotency_key`.
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    /// `event_outbox.payload`: the encoded envelope.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// `event_outbox.headers`: the trace context.
    pub fn headers(&self) -> &serde_json::Value {
        &self.headers
    }
}

/// Stores `envelope` for publication, in the caller's transaction. Returns false when this
/// producer already enqueued a message with the same idempotency key (a retried use case), in
/// which case nothing is stored.
///
/// The current trace context is stored with the row, so the published message continues the
/// trace that caused it.
///
/// # Errors
/// [`BusError::InvalidEnvelope`] when the envelope is malformed or lacks its producer,
/// idempotency or partition key; [`BusError::Database`] when the insert fails.
#[tracing::instrument(skip_all, fields(event_type = %envelope.r#type, producer = %envelope.producer))]
pub async fn enqueue(tx: &mut PgConnection, envelope: &Envelope) -> Result<bool, BusError> {
    let row = OutboxRow::prepare(envelope)?;
    let inserted = sqlx::query!(
        "insert into event_outbox (producer, event_id, subject, event_type, idempotency_key, payload, headers)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (producer, idempotency_key) do nothing",
        row.producer,
        row.event_id,
        row.subject,
        row.event_type,
        row.idempotency_key,
        row.payload,
        row.headers,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Stores `rows` in one statement, in the caller's transaction; answers for each, in order,
/// whether it was stored (false: its producer already has that idempotency key, from before or
/// from an earlier row of `rows`). With [`Notify::ByCaller`] the statement switches the NOTIFY
/// off for the rest of the transaction, and the caller wakes the relay after commit.
///
/// # Errors
/// [`BusError::Database`] when the insert fails; nothing is stored then.
#[tracing::instrument(skip_all, fields(rows = rows.len(), ?notify))]
pub async fn enqueue_many(
    tx: &mut PgConnection,
    rows: &[&OutboxRow],
    notify: Notify,
) -> Result<Vec<bool>, BusError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let text = |f: fn(&OutboxRow) -> &str| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
    let event_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.event_id).collect();
    let payloads: Vec<&[u8]> = rows.iter().map(|r| r.payload.as_slice()).collect();
    let headers: Vec<&serde_json::Value> = rows.iter().map(|r| &r.headers).collect();
    let stored = sqlx::query_scalar!(
        "insert into event_outbox (producer, event_id, subject, event_type, idempotency_key, payload, headers)
         select * from unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                              $6::bytea[], $7::jsonb[])
          where set_config('josh.notify', $8, true) is not null
         on conflict (producer, idempotency_key) do nothing
         returning producer || ' ' || idempotency_key as \"key!\"",
        &text(|r| &r.producer) as &[&str],
        &event_ids,
        &text(|r| &r.subject) as &[&str],
        &text(|r| &r.event_type) as &[&str],
        &text(|r| &r.idempotency_key) as &[&str],
        &payloads as &[&[u8]],
        &headers as &[&serde_json::Value],
        notify.setting(),
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut stored: std::collections::HashSet<String> = stored.into_iter().collect();
    Ok(rows
        .iter()
        .map(|r| stored.remove(&format!("{} {}", r.producer, r.idempotency_key)))
        .collect())
}

fn validate(envelope: &Envelope) -> Result<uuid::Uuid, BusError> {
    if envelope.producer.is_empty() {
        return Err(BusError::InvalidEnvelope("empty producer"));
    }
    if envelope.idempotency_key.is_empty() {
        return Err(BusError::InvalidEnvelope("empty idempotency_key"));
    }
    uuid::Uuid::parse_str(&envelope.event_id)
        .map_err(|_| BusError::InvalidEnvelope("event_id is not a UUID"))
}

/// Deletes `producer`'s already published rows whose encoded envelope contains any of
/// `needles` (a user id, a phone hash, a phone number), returning how many went. Used when an
/// account is deleted: a published row is only the relay's log (pruned after a week anyway),
/// and a `send_sms` command in it carries the recipient's number in clear. Unpublished rows
/// stay so nothing already decided goes unsent. Scans the producer's published rows: meant
/// for rare erasures, not hot paths.
///
/// # Errors
/// [`BusError::Database`] when the delete fails.
#[tracing::instrument(skip_all, fields(producer, needles = needles.len()))]
pub async fn forget_published(
    tx: &mut PgConnection,
    producer: &str,
    needles: &[String],
) -> Result<u64, BusError> {
    let needles: Vec<Vec<u8>> = needles
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| n.as_bytes().to_vec())
        .collect();
    if needles.is_empty() {
        return Ok(0);
    }
    let deleted = sqlx::query!(
        "delete from event_outbox o
          where o.producer = $1 and o.published_at is not null
            and exists (select 1 from unnest($2::bytea[]) n where position(n in o.payload) > 0)",
        producer,
        &needles
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(deleted)
}
