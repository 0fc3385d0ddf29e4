//! Facts the router publishes, through the outbox in the caller's transaction.

use proto::{Envelope, Payload};
use sqlx::PgConnection;

use crate::SERVICE;
use crate::error::RouterError;

/// Enqueues `payload` caused by the inbound envelope `cause`, once per `idempotency_key`.
///
/// # Errors
/// [`RouterError::Bus`] when the outbox refuses it.
pub async fn publish(
    tx: &mut PgConnection,
    cause: &Envelope,
    payload: impl Into<Payload>,
    idempotency_key: String,
    partition_key: &str,
) -> Result<(), RouterError> {
    let envelope = Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        producer: SERVICE.to_owned(),
        occurred_at: cause.occurred_at,
        correlation_id: cause.correlation_id.clone(),
        causation_id: cause.event_id.clone(),
        idempotency_key,
        partition_key: partition_key.to_owned(),
        ..Envelope::for_payload(payload)
    };
    bus::outbox::enqueue(tx, &envelope).await?;
    Ok(())
}
