//! Replies to LinkUp invites (product-rules §4). The matcher sends the invite text; its
//! `invite sent` records the invite in the session's `pending_invites` (an idle session shows
//! `awaiting_invite_reply`), and the person's YES / NO / A / B becomes `invite replied`. Two
//! pending invites and an ambiguous answer → one question: which one. The last invite closed
//! before its reply (the group filled) is kept too, so a late YES or NO still reaches the matcher,
//! which answers it honestly ("that one already filled", product-rules §4).

use proto::v1::{InviteReplied, InviteReply as WireReply};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::linkups;
use crate::store::sessions::{self, Session};
use crate::text::answers::{self, InviteReply};

/// State token of an idle session that waits for invite replies.
pub const TOKEN_PREFIX: &str = "invites:";

/// One invite awaiting a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// linkup_invites.id.
    #[serde(rename = "i")]
    pub invite_id: Uuid,
    /// linkups.id.
    #[serde(rename = "l")]
    pub linkup_id: Uuid,
    /// Options offered ("A", "B"), empty for one.
    #[serde(rename = "o", default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// The invites a session waits on, and an answer held while asking which one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// Pending invites, oldest first.
    #[serde(rename = "p")]
    pub pending: Vec<Pending>,
    /// An answer given while two were pending, waiting for "which one".
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub held: Option<bool>,
    /// The last invite closed before it was answered, until a reply to it or a new invite.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Pending>,
}

impl Waiting {
    /// The invites a session waits on (its `pending_invites` column).
    pub fn of(session: &Session) -> Self {
        serde_json::from_value(session.pending_invites.clone()).unwrap_or_default()
    }
}

/// Handles a text while invites are pending; `None` when it is not an invite reply (it is then
/// handled as any other text, and the invites stay pending).
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn reply(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    session: &Session,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let mut waiting = Waiting::of(session);
    if waiting.pending.is_empty() {
        return late(tx, ctx, msg, user, waiting).await;
    }
    if let Some(accept) = waiting.held {
        // The answer to "which one?".
        let Some(i) = answers::choice(msg.text, waiting.pending.len()) else {
            return Ok(None);
        };
        waiting.held = None;
        let choice = if accept {
            InviteReply::Accept(None)
        } else {
            InviteReply::Decline
        };
        return answer(tx, ctx, msg, user, waiting, i, choice)
            .await
            .map(Some);
    }
    let options = waiting
        .pending
        .iter()
        .map(|p| p.options.len())
        .max()
        .unwrap_or(0);
    let Some(choice) = answers::invite_reply(msg.text, options.max(1)) else {
        return Ok(None);
    };
    if waiting.pending.len() == 1 {
        return answer(tx, ctx, msg, user, waiting, 0, choice)
            .await
            .map(Some);
    }
    waiting.held = Some(matches!(choice, InviteReply::Accept(_)));
    let mut labels = Vec::new();
    for p in &waiting.pending {
        labels.push(describe(tx, p.linkup_id).await?);
    }
    store(tx, user.id, &waiting).await?;
    Ok(Some(vec![Reply::say(copy::which_invite(&labels))]))
}

async fn answer(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    mut waiting: Waiting,
    index: usize,
    choice: InviteReply,
) -> Result<Vec<Reply>, RouterError> {
    let invite = waiting.pending.remove(index);
    let (reply, option) = match choice {
        InviteReply::Accept(option) => (WireReply::Accept, option),
        InviteReply::Decline => (WireReply::Decline, None),
    };
    let selected = option
        .and_then(|i| invite.options.get(i).cloned())
        .unwrap_or_default();
    let fact = InviteReplied {
        invite_id: invite.invite_id.to_string(),
        linkup_id: invite.linkup_id.to_string(),
        user_id: user.id.to_string(),
        reply: reply.into(),
        selected_option: selected,
        response_message_sid: msg.message_sid.to_owned(),
        replied_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
    };
    let key = format!("invite_replied:{}:{}", invite.invite_id, msg.message_sid);
    events::publish(tx, msg.envelope, fact, key, &user.id.to_string()).await?;
    store(tx, user.id, &waiting).await?;
    let what = describe(tx, invite.linkup_id).await?;
    Ok(vec![Reply::say(match reply {
        WireReply::Accept => copy::invite_accepted(&what),
        _ => copy::INVITE_DECLINED.to_owned(),
    })])
}

/// A reply to the invite that closed before it was answered: the fact goes to the matcher,
/// which tells a late YES the group filled; a late NO is thanked. `None` when nothing closed
/// is remembered or the text is no invite reply.
async fn late(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    mut waiting: Waiting,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let Some(closed) = waiting.closed.take() else {
        return Ok(None);
    };
    let Some(choice) = answers::invite_reply(msg.text, closed.options.len().max(1)) else {
        return Ok(None);
    };
    let accept = matches!(choice, InviteReply::Accept(_));
    let reply = if accept {
        WireReply::Accept
    } else {
        WireReply::Decline
    };
    let fact = InviteReplied {
        invite_id: closed.invite_id.to_string(),
        linkup_id: closed.linkup_id.to_string(),
        user_id: user.id.to_string(),
        reply: reply.into(),
        selected_option: String::new(),
        response_message_sid: msg.message_sid.to_owned(),
        replied_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
    };
    let key = format!("invite_replied:{}:{}", closed.invite_id, msg.message_sid);
    events::publish(tx, msg.envelope, fact, key, &user.id.to_string()).await?;
    store(tx, user.id, &waiting).await?;
    // The matcher answers a late yes itself (it knows whether the group filled).
    Ok(Some(if accept {
        Vec::new()
    } else {
        vec![Reply::say(copy::INVITE_DECLINED)]
    }))
}

/// Writes the invites waiting on a reply. A plain idle conversation shows them as
/// `awaiting_invite_reply`, and returns to idle when none is left; a conversation in another
/// dialog keeps its mode (the invites wait beside it).
pub async fn store(
    tx: &mut PgConnection,
    user_id: Uuid,
    waiting: &Waiting,
) -> Result<(), RouterError> {
    let value = serde_json::to_value(waiting).unwrap_or_else(|_| serde_json::json!({ "p": [] }));
    sessions::set_pending_invites(tx, user_id, &value).await?;
    let Some(session) = sessions::session(tx, user_id).await? else {
        return Ok(());
    };
    let plain_idle = session.mode == "idle" && session.state_token == "idle";
    if !waiting.pending.is_empty() && plain_idle {
        sessions::set_mode(tx, user_id, "awaiting_invite_reply", TOKEN_PREFIX, None).await?;
    } else if waiting.pending.is_empty() && session.mode == "awaiting_invite_reply" {
        sessions::set_mode(tx, user_id, "idle", "idle", None).await?;
    }
    Ok(())
}

/// "coffee Sat morning", from the matcher's LinkUp.
pub async fn describe(tx: &mut PgConnection, linkup_id: Uuid) -> Result<String, RouterError> {
    let summary = linkups::summary(tx, linkup_id).await?;
    let activity = summary
        .as_ref()
        .and_then(|s| s.activity_key.clone())
        .unwrap_or_else(|| "the LinkUp".to_owned())
        .replace('_', " ");
    let when = summary
        .and_then(|s| s.time_window)
        .map(|w| crate::text::when::describe_bucket(&w))
        .unwrap_or_default();
    Ok(format!("{activity} {when}").trim().to_owned())
}
