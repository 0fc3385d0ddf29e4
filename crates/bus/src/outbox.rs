//! The transactional outbox: an event is stored in the same transaction as the state change
//! that caused it, and the [`Relay`](crate::Relay) publishes it afterwards.

use prost::Message;
use proto::Envelope;
use sqlx::PgConnection;

use crate::BusError;
use crate::subjects;

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
    let subject = subjects::subject_of(envelope)?;
    let event_id = validate(envelope)?;
    let mut headers = std::collections::BTreeMap::new();
    if let Some(tp) = platform::trace_context::current_traceparent() {
        headers.insert("traceparent".to_owned(), tp);
    }
    let headers = serde_json::to_value(headers).unwrap_or_default();
    let inserted = sqlx::query!(
        "insert into event_outbox (producer, event_id, subject, event_type, idempotency_key, payload, headers)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (producer, idempotency_key) do nothing",
        envelope.producer,
        event_id,
        subject,
        envelope.r#type,
        envelope.idempotency_key,
        envelope.encode_to_vec(),
        headers,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
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
