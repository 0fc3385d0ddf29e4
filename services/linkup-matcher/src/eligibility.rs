//! A person who loses eligibility (participation entitlement, or a safety hold) has their pending
//! invites withdrawn; an initiator who can no longer start LinkUps has their broadcasting ones
//! canceled. Consumes `billing.entitlement_changed` and `safety.hold_changed`; a deleted
//! account (`identity.user_deleted`) leaves everything ([`crate::departure`]).

use std::sync::Arc;

use bus::{Handler, HandlerError};
use proto::v1::{CancelReason, InviteCloseReason, SafetyHoldState};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::MatcherError;
use crate::out::Cause;
use crate::store::{after, linkups};
use crate::{Context, changes, lock};

/// Handles eligibility losses.
#[derive(Debug, Clone)]
pub struct EligibilityHandler {
    ctx: Arc<Context>,
}

impl EligibilityHandler {
    /// A handler over the matcher's context.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    async fn run(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), MatcherError> {
        let cause = Cause::of(envelope, self.ctx.clock.now());
        let (user, participate, initiate) = match envelope.payload.as_ref() {
            Some(Payload::EntitlementChanged(e)) => (
                &e.user_id,
                e.eligible_to_participate,
                e.eligible_to_initiate,
            ),
            Some(Payload::UserDeleted(d)) => {
                let user = Uuid::parse_str(&d.user_id)
                    .map_err(|_| MatcherError::UnexpectedEvent("malformed user id"))?;
                crate::departure::depart(tx, &self.ctx, &cause, user).await?;
                let needles = [d.user_id.clone()];
                bus::outbox::forget_published(tx, crate::SERVICE, &needles).await?;
                return Ok(());
            }
            Some(Payload::SafetyHoldChanged(h)) => {
                let clear = h.state() == SafetyHoldState::None;
                (&h.user_id, clear, clear)
            }
            _ => return Err(MatcherError::UnexpectedEvent("not an eligibility change")),
        };
        let user = Uuid::parse_str(user)
            .map_err(|_| MatcherError::UnexpectedEvent("malformed user id"))?;
        withdraw(tx, &self.ctx, &cause, user, (participate, initiate)).await
    }
}

impl Handler for EligibilityHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.run(tx, envelope).await.map_err(HandlerError::from)
    }
}

/// Closes `user`'s pending invites unless they may still participate, and cancels the LinkUps
/// they started unless they may still initiate. LinkUps are locked in id order.
#[tracing::instrument(skip_all, fields(user_id = %user))]
async fn withdraw(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    user: Uuid,
    (participate, initiate): (bool, bool),
) -> Result<(), MatcherError> {
    let (invited, started) = after::open_involvement(tx, user).await?;
    if !participate {
        for linkup in invited {
            if linkups::lock_row(tx, linkup).await?.is_some() {
                lock::close(
                    tx,
                    cause,
                    linkup,
                    &["pending"],
                    Some(&[user]),
                    InviteCloseReason::Ineligible,
                )
                .await?;
            }
        }
    }
    if !initiate {
        for id in started {
            if let Some(linkup) = linkups::lock_row(tx, id).await? {
                changes::cancel_linkup(
                    tx,
                    ctx,
                    cause,
                    &linkup,
                    CancelReason::InitiatorIneligible,
                    "initiator_ineligible",
                    None,
                )
                .await?;
            }
        }
    }
    Ok(())
}
