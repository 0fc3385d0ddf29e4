//! DROP (issue 5; CANCEL is a carrier opt-out word, so leaving uses another): a participant's
//! DROP asks the matcher to take them out of their next locked LinkUp; the initiator's DROP
//! asks it to cancel the LinkUp they started. The matcher tells the group and re-offers the
//! slot when there is time.

use proto::v1::{CancelRequested, DropRequested};
use sqlx::PgConnection;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::linkups;

/// Handles DROP.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn drop_out(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let now = ctx.clock.now();
    let Some((linkup_id, initiator)) = linkups::next_to_leave(tx, user.id, now).await? else {
        return Ok(vec![Reply::say(copy::NOTHING_TO_DROP)]);
    };
    let at = Some(proto::timestamp::to_timestamp(now));
    let partition = user.id.to_string();
    if initiator {
        let fact = CancelRequested {
            linkup_id: linkup_id.to_string(),
            user_id: user.id.to_string(),
            reason_text: "initiator_drop".to_owned(),
            source_message_sid: msg.message_sid.to_owned(),
            requested_at: at,
        };
        let key = format!("cancel_requested:{linkup_id}:{}", user.id);
        events::publish(tx, msg.envelope, fact, key, &partition).await?;
        return Ok(vec![Reply::say(copy::CANCELING)]);
    }
    let fact = DropRequested {
        linkup_id: linkup_id.to_string(),
        user_id: user.id.to_string(),
        source_message_sid: msg.message_sid.to_owned(),
        requested_at: at,
    };
    let key = format!("drop_requested:{linkup_id}:{}", user.id);
    events::publish(tx, msg.envelope, fact, key, &partition).await?;
    Ok(vec![Reply::say(copy::DROPPED)])
}
