//! The router's reactions to the matcher's facts: an invite sent opens an invite reply; a
//! closed invite, a lock, an expiry or a cancel closes it; a completed LinkUp starts the
//! post-event questions. The matcher sends its own notices (invites, lock, reminders); the
//! router keeps each conversation pointing at what the person may answer next.

use std::sync::Arc;

use bus::{ConsumerSpec, Handler, HandlerError};
use proto::v1::SmsPurpose;
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::RouterError;
use crate::invites::{self, Pending, Waiting};
use crate::post_event::PostEvent;
use crate::replies::{self, Origin, Recipient, Reply};
use crate::store::{identity, magic, sessions};
use crate::{Context, SERVICE, copy};

/// The event types this handler consumes.
pub const TYPES: [&str; 8] = [
    "linkup.request_refused",
    "linkup.no_show_recorded",
    "linkup.invite_sent",
    "linkup.invite_closed",
    "linkup.locked",
    "linkup.expired",
    "linkup.canceled",
    "linkup.completed",
];

/// One ordered consumer per event type.
pub fn consumers() -> Vec<ConsumerSpec> {
    TYPES
        .iter()
        .filter_map(|t| proto::catalog::by_type_name(t))
        .map(|info| ConsumerSpec::ordered(SERVICE, info))
        .collect()
}

/// Handles the matcher's facts.
#[derive(Debug, Clone)]
pub struct ReactionsHandler {
    ctx: Arc<Context>,
}

impl ReactionsHandler {
    /// A handler over the router's context.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    #[tracing::instrument(skip_all, fields(event_type = %envelope.r#type))]
    async fn run(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), RouterError> {
        match envelope.payload.as_ref() {
            Some(Payload::InviteSent(e)) => {
                let pending = Pending {
                    invite_id: id(&e.invite_id)?,
                    linkup_id: id(&e.linkup_id)?,
                    options: e.offered_options.clone(),
                };
                invite_sent(tx, id(&e.invited_user_id)?, pending).await
            }
            Some(Payload::InviteClosed(e)) => {
                let invite = id(&e.invite_id)?;
                let unanswered = !e.had_replied;
                forget(tx, id(&e.user_id)?, unanswered, |p| p.invite_id == invite).await
            }
            Some(Payload::LinkupLocked(e)) => {
                forget_linkup(tx, &e.linkup_id, &e.participant_user_ids).await?;
                let event_time = e
                    .event_time
                    .as_ref()
                    .and_then(|t| proto::timestamp::from_timestamp(t).ok());
                send_pages(
                    tx,
                    &self.ctx,
                    envelope,
                    id(&e.linkup_id)?,
                    &e.participant_user_ids,
                    event_time,
                )
                .await
            }
            Some(Payload::LinkupExpired(e)) => {
                forget_linkup(tx, &e.linkup_id, &e.accepted_user_ids).await
            }
            Some(Payload::LinkupCanceled(e)) => {
                forget_linkup(tx, &e.linkup_id, &e.affected_user_ids).await
            }
            Some(Payload::LinkupCompleted(e)) => {
                completed(
                    tx,
                    &self.ctx,
                    envelope,
                    id(&e.linkup_id)?,
                    &e.participant_user_ids,
                )
                .await
            }
            Some(Payload::LinkupRequestRefused(e)) => {
                crate::refusals::refused(tx, &self.ctx, envelope, e).await
            }
            Some(Payload::NoShowRecorded(e)) => {
                let user = id(&e.user_id)?;
                let partition = user.to_string();
                let cause = crate::screening::Cause {
                    envelope,
                    key: &envelope.event_id,
                    partition: &partition,
                };
                let why = ("no_show", "reported not attending a locked LinkUp");
                crate::screening::strike(tx, &self.ctx, &cause, user, why)
                    .await
                    .map(|_| ())
            }
            _ => Err(RouterError::UnexpectedEvent(
                "not a matcher fact the router reacts to",
            )),
        }
    }
}

impl Handler for ReactionsHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.run(tx, envelope).await.map_err(HandlerError::from)
    }
}

fn id(text: &str) -> Result<Uuid, RouterError> {
    text.parse()
        .map_err(|_| RouterError::UnexpectedEvent("a malformed id in a matcher fact"))
}

async fn invite_sent(
    tx: &mut PgConnection,
    user_id: Uuid,
    pending: Pending,
) -> Result<(), RouterError> {
    let Some(session) = sessions::session(tx, user_id).await? else {
        return Ok(());
    };
    if matches!(session.mode.as_str(), "safety_hold" | "interviewing") {
        return Ok(());
    }
    // Facts of different types are not ordered with each other: an invite whose LinkUp already
    // locked, expired or was canceled is not worth waiting on.
    let forming = crate::store::linkups::summary(tx, pending.linkup_id)
        .await?
        .is_none_or(|l| matches!(l.state.as_str(), "draft" | "broadcasting"));
    if !forming {
        return Ok(());
    }
    let mut waiting = Waiting::of(&session);
    if !waiting
        .pending
        .iter()
        .any(|p| p.invite_id == pending.invite_id)
    {
        waiting.pending.push(pending);
        waiting.closed = None;
    }
    invites::store(tx, user_id, &waiting).await
}

/// Stops waiting on the invites `closed` picks; with `remember`, the last of them is kept so a
/// late reply to it is still answered.
async fn forget(
    tx: &mut PgConnection,
    user_id: Uuid,
    remember: bool,
    closed: impl Fn(&Pending) -> bool,
) -> Result<(), RouterError> {
    let Some(session) = sessions::session(tx, user_id).await? else {
        return Ok(());
    };
    let mut waiting = Waiting::of(&session);
    let before = waiting.pending.len();
    let (gone, kept): (Vec<Pending>, Vec<Pending>) =
        waiting.pending.drain(..).partition(|p| closed(p));
    waiting.pending = kept;
    if waiting.pending.len() != before {
        waiting.held = None;
        if remember {
            waiting.closed = gone.into_iter().last();
        }
        invites::store(tx, user_id, &waiting).await?;
    }
    Ok(())
}

async fn forget_linkup(
    tx: &mut PgConnection,
    linkup: &str,
    users: &[String],
) -> Result<(), RouterError> {
    let linkup = id(linkup)?;
    for user in users {
        forget(tx, id(user)?, false, |p| p.linkup_id == linkup).await?;
    }
    Ok(())
}

/// Texts each participant a one-time link to the LinkUp page (valid until a day after it).
async fn send_pages(
    tx: &mut PgConnection,
    ctx: &Context,
    envelope: &Envelope,
    linkup_id: Uuid,
    participants: &[String],
    event_time: Option<time::OffsetDateTime>,
) -> Result<(), RouterError> {
    let ids = participants
        .iter()
        .map(|p| id(p))
        .collect::<Result<Vec<_>, _>>()?;
    let now = ctx.clock.now();
    let expires_at = event_time.map_or(now + time::Duration::days(7), |t| {
        t + time::Duration::days(1)
    });
    for person in identity::contacts(tx, &ids).await? {
        if magic::has_link(tx, person.id, linkup_id).await? {
            continue;
        }
        let token = crypto::MagicLinkToken::generate()?;
        magic::mint(tx, person.id, linkup_id, &token.hash(), expires_at).await?;
        let url = format!("{}/l/{}", ctx.public_base_url, token.as_str());
        let to = Recipient {
            user_id: Some(person.id),
            phone_e164: &person.phone_e164,
            phone_hash: &person.phone_hash,
        };
        let reply = Reply::with_purpose(copy::linkup_page(&url), SmsPurpose::LockNotice);
        let key = format!("linkup_page:{linkup_id}:{}", person.id);
        replies::send(tx, &ctx.keyring, &Origin::of(envelope), &to, &reply, key).await?;
    }
    Ok(())
}

/// Starts the post-event questions for every participant.
async fn completed(
    tx: &mut PgConnection,
    ctx: &Context,
    envelope: &Envelope,
    linkup_id: Uuid,
    participants: &[String],
) -> Result<(), RouterError> {
    let ids = participants
        .iter()
        .map(|p| id(p))
        .collect::<Result<Vec<_>, _>>()?;
    let people = identity::contacts(tx, &ids).await?;
    let what = invites::describe(tx, linkup_id).await?;
    for person in &people {
        let Some(session) = sessions::session(tx, person.id).await? else {
            continue;
        };
        // Held, mid-interview or opted out: no post-event questions for them.
        let busy = matches!(session.mode.as_str(), "safety_hold" | "interviewing");
        if busy || crate::store::optouts::is_opted_out(tx, &person.phone_hash).await? {
            continue;
        }
        let others = people
            .iter()
            .filter(|o| o.id != person.id)
            .map(|o| (o.id, o.first_name.clone()))
            .collect();
        let state = PostEvent {
            linkup_id,
            step: "attendance".to_owned(),
            attended: None,
            others,
        };
        sessions::set_mode(tx, person.id, "idle", &state.token(), None).await?;
        let to = Recipient {
            user_id: Some(person.id),
            phone_e164: &person.phone_e164,
            phone_hash: &person.phone_hash,
        };
        let reply = Reply::with_purpose(copy::ask_attended(&what), SmsPurpose::OutcomePrompt);
        let key = format!("post_event:{linkup_id}:{}:attendance", person.id);
        replies::send(tx, &ctx.keyring, &Origin::of(envelope), &to, &reply, key).await?;
    }
    Ok(())
}
