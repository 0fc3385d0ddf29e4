//! `identity.user_deleted`: the person's pending texts are canceled (except the deletion's own
//! confirmation), every settled job and outbound message loses its body and the number, and the
//! published outbox rows that carried them are forgotten. A text still pending at the delete
//! (the confirmation) is scrubbed when it settles ([`Outbound::scrub_if_deleted`]).

use bus::{Handler, HandlerError};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::SERVICE;
use crate::engine::Outbound;
use crate::error::SenderError;
use crate::intake::into_handler_error;
use crate::store::erasure;

/// Handles `identity.user_deleted`.
#[derive(Debug, Clone, Default)]
pub struct ErasureHandler;

impl Handler for ErasureHandler {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        erase(tx, envelope).await.map_err(into_handler_error)
    }
}

async fn erase(tx: &mut PgConnection, envelope: &Envelope) -> Result<(), SenderError> {
    let Some(Payload::UserDeleted(deleted)) = &envelope.payload else {
        return Err(SenderError::Invalid("not a user deletion"));
    };
    let user = Uuid::parse_str(&deleted.user_id)
        .map_err(|_| SenderError::Invalid("user_id is not a UUID"))?;
    let hash = deleted.phone_hash.as_str();
    let keep = Uuid::parse_str(&envelope.correlation_id).ok();
    let canceled = erasure::cancel_pending(tx, user, hash, keep).await?;
    let numbers = erasure::numbers_of(tx, user, hash).await?;
    let scrubbed = erasure::scrub_settled(tx, user, hash, &numbers).await?;
    forget(tx, user, hash, numbers).await?;
    tracing::info!(canceled, scrubbed, "deleted user's texts scrubbed");
    Ok(())
}

async fn forget(
    tx: &mut PgConnection,
    user: Uuid,
    hash: &str,
    mut needles: Vec<String>,
) -> Result<(), SenderError> {
    needles.extend([user.to_string(), hash.to_owned()]);
    bus::outbox::forget_published(tx, SERVICE, &needles).await?;
    Ok(())
}

impl Outbound {
    /// After a job of `user` settled: scrubs it (and the person's other texts) when the account
    /// was deleted meanwhile, so the deletion's confirmation does not leave the number behind.
    pub(crate) async fn scrub_if_deleted(
        &self,
        tx: &mut PgConnection,
        user: Option<Uuid>,
        phone_hash: Option<&str>,
    ) -> Result<(), SenderError> {
        let Some(user) = user else {
            return Ok(());
        };
        if !erasure::is_deleted(tx, user).await? {
            return Ok(());
        }
        let hash = phone_hash.unwrap_or_default();
        let numbers = erasure::numbers_of(tx, user, hash).await?;
        erasure::scrub_settled(tx, user, hash, &numbers).await?;
        Ok(())
    }
}
