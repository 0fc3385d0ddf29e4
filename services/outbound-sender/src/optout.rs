//! The router's opt-out and opt-in events keep the suppression list complete across every
//! sender number: an opt-out suppresses the phone hash (even of a number that is not a user),
//! an opt-in lifts opt-out suppressions (a number marked unusable stays suppressed).

use bus::{Handler, HandlerError};
use proto::{Envelope, Payload};
use sqlx::PgConnection;

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::intake::into_handler_error;
use crate::store::state;

/// Handles `identity.user_opted_out` and `identity.user_opted_in`.
#[derive(Debug)]
pub struct OptOutHandler {
    outbound: Outbound,
}

impl OptOutHandler {
    /// A handler maintaining `outbound`'s suppression list.
    pub fn new(outbound: Outbound) -> Self {
        Self { outbound }
    }
}

impl Handler for OptOutHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        {
            self.outbound
                .record_opt_change(tx, envelope)
                .await
                .map_err(into_handler_error)
        }
    }
}

impl Outbound {
    async fn record_opt_change(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
    ) -> Result<(), SenderError> {
        let (phone_hash, user_id, at, opted_out) = match &envelope.payload {
            Some(Payload::UserOptedOut(e)) => {
                (&e.phone_hash, &e.user_id, e.opted_out_at.as_ref(), true)
            }
            Some(Payload::UserOptedIn(e)) => {
                (&e.phone_hash, &e.user_id, e.opted_in_at.as_ref(), false)
            }
            _ => return Err(SenderError::Invalid("not an opt-out or opt-in event")),
        };
        if phone_hash.is_empty() {
            return Err(SenderError::Invalid("the event has no phone hash"));
        }
        let at = proto::timestamp::from_timestamp_opt(at)
            .ok()
            .flatten()
            .unwrap_or_else(|| self.inner.clock.now());
        if opted_out {
            let user = uuid::Uuid::parse_str(user_id).ok();
            // The users row may be gone; the suppression must not depend on it.
            let user = match user {
                Some(id) if state::recipient(tx, id).await?.is_some() => Some(id),
                _ => None,
            };
            state::suppress(tx, phone_hash, user, "opted_out", None, at).await?;
        } else {
            state::lift_opt_out(tx, phone_hash, at).await?;
        }
        Ok(())
    }
}
