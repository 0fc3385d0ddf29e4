//! `identity.user_deleted`: the person's inbound texts keep their metadata (when, which
//! sender number, SID, status) but lose the body and the person's number, and this service's
//! published outbox rows that carried them are forgotten.

use bus::{Handler, HandlerError};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::SERVICE;
use crate::store;

/// Handles `identity.user_deleted`.
#[derive(Debug, Clone, Default)]
pub struct ErasureHandler;

/// Why a deletion fact cannot be handled.
#[derive(Debug, thiserror::Error)]
#[error("invalid identity.user_deleted: {0}")]
pub struct InvalidDeletion(&'static str);

impl Handler for ErasureHandler {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        let Some(Payload::UserDeleted(deleted)) = &envelope.payload else {
            return Err(HandlerError::reject(InvalidDeletion("not a user deletion")));
        };
        let user = Uuid::parse_str(&deleted.user_id)
            .map_err(|_| HandlerError::reject(InvalidDeletion("malformed user id")))?;
        let numbers = store::inbound_numbers_of(tx, user).await?;
        let scrubbed = store::scrub_inbound(tx, user, &numbers).await?;
        let mut needles = numbers;
        needles.push(deleted.user_id.clone());
        needles.push(deleted.phone_hash.clone());
        let forgotten = bus::outbox::forget_published(tx, SERVICE, &needles)
            .await
            .map_err(HandlerError::retry)?;
        tracing::info!(scrubbed, forgotten, "deleted user's inbound texts scrubbed");
        Ok(())
    }
}
