//! `linkup.invite_replied`: a YES or NO updates a pending invite once; a YES that fills the group
//! locks it at once. Each reply first takes the LinkUp's row lock, so concurrent replies apply one
//! at a time and exactly `max_size - 1` acceptances lock it. A reply to an invite that is no
//! longer open changes nothing and is answered honestly, once per invite.

use std::sync::Arc;

use bus::{Handler, HandlerError};
use proto::v1::{InviteReplied, InviteReply, LockReason, SmsPurpose};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Notice, Transition};
use crate::store::{invites, linkups};
use crate::{Context, changes, copy, lock};

/// Handles invite replies.
#[derive(Debug, Clone)]
pub struct ReplyHandler {
    ctx: Arc<Context>,
}

impl ReplyHandler {
    /// A handler over the matcher's context.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }
}

impl Handler for ReplyHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        let Some(Payload::InviteReplied(reply)) = envelope.payload.as_ref() else {
            return Err(MatcherError::UnexpectedEvent("expected linkup.invite_replied").into());
        };
        apply(tx, &self.ctx, envelope, reply)
            .await
            .map_err(HandlerError::from)
    }
}

fn id(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}

/// Applies one reply.
///
/// # Errors
/// [`MatcherError`] when a read or write fails, or the reply names no invite.
#[tracing::instrument(skip_all, fields(invite_id = %reply.invite_id))]
pub async fn apply(
    tx: &mut PgConnection,
    ctx: &Context,
    envelope: &Envelope,
    reply: &InviteReplied,
) -> Result<(), MatcherError> {
    let cause = Cause::of(envelope, ctx.clock.now());
    let by_pair = id(&reply.linkup_id).zip(id(&reply.user_id));
    let Some(found) = invites::find(tx, id(&reply.invite_id), by_pair).await? else {
        tracing::warn!("reply to an unknown invite; ignored");
        return Ok(());
    };
    // The LinkUp's row lock serialises every reply, wave and timer of this LinkUp.
    let linkup = linkups::lock_row(tx, found.linkup_id)
        .await?
        .ok_or(MatcherError::UnexpectedEvent("invite without linkup"))?;
    let invite = invites::find(tx, Some(found.id), None)
        .await?
        .unwrap_or(found);
    let accept = reply.reply() == InviteReply::Accept;
    if invite.state != "pending" {
        if accept && invite.state == "closed" {
            answer_closed(tx, ctx, &cause, &linkup, invite.invited_user_id).await?;
        }
        return Ok(());
    }
    let (state, option) = if accept {
        let option = Some(reply.selected_option.as_str()).filter(|o| matches!(*o, "A" | "B"));
        ("accepted", option)
    } else {
        ("declined", None)
    };
    let sid = Some(reply.response_message_sid.as_str()).filter(|s| !s.is_empty());
    if !invites::answer(tx, invite.id, state, option, sid, cause.at).await? {
        return Ok(());
    }
    let t = Transition {
        entity_type: "linkup_invite",
        entity_id: invite.id,
        event_type: "linkup.invite_replied",
        from: Some("pending"),
        to: Some(state),
    };
    out::record(tx, &cause, t).await?;
    if accept && linkup.state == "locked" {
        // A replacement invite after a DROP.
        changes::join_replacement(tx, ctx, &cause, &linkup, invite.invited_user_id).await?;
    } else if accept {
        let accepted = invites::accepted(tx, linkup.id).await?.len();
        let size = i32::try_from(accepted + 1).unwrap_or(i32::MAX);
        if size >= linkup.max_size {
            lock::lock_or_expire(tx, ctx, &cause, &linkup, LockReason::MaxSizeReached).await?;
        }
    }
    Ok(())
}

/// A yes to a closed invite: "it filled" when the group locked, else "no longer open".
async fn answer_closed(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    user: Uuid,
) -> Result<(), MatcherError> {
    let brief = Brief::from_json(&linkup.brief);
    let body = if matches!(linkup.state.as_str(), "locked" | "completed") {
        copy::filled(&brief.activity_name)
    } else {
        copy::no_longer_open(&brief.activity_name)
    };
    // Once per invite: the key names the LinkUp and the person, who hold one invite.
    let notice = Notice {
        linkup_id: linkup.id,
        timezone: &brief.timezone,
        purpose: SmsPurpose::Reply,
        key: "late-reply",
    };
    out::tell(tx, ctx, cause, notice, &[user], &body).await?;
    Ok(())
}
