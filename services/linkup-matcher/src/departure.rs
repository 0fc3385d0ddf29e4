//! A deleted account leaves the matcher's LinkUps properly: its pending and accepted invites are
//! withdrawn, the broadcasting LinkUps it started are canceled (those who said yes are told), and
//! it leaves upcoming locked LinkUps as a DROP would (the group goes on, gets one replacement
//! wave, or is canceled, and everyone left is told). The person is not texted. Consumes
//! `identity.user_deleted` (through [`crate::eligibility::EligibilityHandler`]).

use proto::v1::{CancelReason, InviteCloseReason};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::MatcherError;
use crate::out::Cause;
use crate::store::{after, linkups};
use crate::{Context, changes, lock};

/// Takes `user` out of every LinkUp that has not happened yet. LinkUps are locked in id order
/// within each step.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn depart(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    user: Uuid,
) -> Result<(), MatcherError> {
    let (_, started) = after::open_involvement(tx, user).await?;
    for id in started {
        if let Some(linkup) = linkups::lock_row(tx, id).await? {
            let reason = CancelReason::InitiatorIneligible;
            changes::cancel_linkup(tx, ctx, cause, &linkup, reason, "initiator_deleted", None)
                .await?;
        }
    }
    let (invited, locked) = after::open_places(tx, user, cause.at).await?;
    for id in invited {
        if linkups::lock_row(tx, id).await?.is_some() {
            let states = ["pending", "accepted"];
            let reason = InviteCloseReason::Ineligible;
            lock::close(tx, cause, id, &states, Some(&[user]), reason).await?;
        }
    }
    for id in locked {
        if let Some(linkup) = linkups::lock_row(tx, id).await? {
            changes::leave(tx, ctx, cause, &linkup, user, None).await?;
        }
    }
    Ok(())
}
