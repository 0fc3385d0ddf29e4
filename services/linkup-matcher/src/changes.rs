//! Changes to a LinkUp after it started: the initiator cancels (before or after the lock), a
//! participant DROPs (the group goes on if it still meets min_size; else exactly one replacement
//! wave with a 2-4 h deadline, and if that fails the LinkUp is canceled and everyone told).

use proto::v1::{
    CancelReason, CancelRequested, DropRequested, InviteCloseReason, LinkupCanceled,
    ParticipantDropped, SmsPurpose,
};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::after::id;
use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Notice, Transition};
use crate::store::{after, invites, linkups, timers};
use crate::{Context, copy, lock, waves};

/// Who a cancel affects: accepted invitees before the lock, every participant after; `None`
/// when the LinkUp is past canceling.
async fn affected(
    tx: &mut PgConnection,
    linkup: &linkups::Linkup,
) -> Result<Option<Vec<Uuid>>, MatcherError> {
    Ok(match linkup.state.as_str() {
        "locked" => Some(linkups::participants(tx, linkup.id).await?),
        "broadcasting" => Some(
            invites::accepted(tx, linkup.id)
                .await?
                .into_iter()
                .map(|(u, _)| u)
                .collect(),
        ),
        _ => None,
    })
}

/// Longest and shortest deadline of a replacement wave.
const REPLACEMENT_MAX: Duration = Duration::hours(4);
const REPLACEMENT_MIN: Duration = Duration::hours(2);
/// A replacement must be settled this long before the event.
const REPLACEMENT_LEAD: Duration = Duration::hours(1);
/// Invites in a replacement wave.
const REPLACEMENT_SIZE: usize = 6;

/// The initiator cancels their LinkUp.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
#[tracing::instrument(skip_all, fields(linkup_id = %c.linkup_id))]
pub async fn cancel(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    c: &CancelRequested,
) -> Result<(), MatcherError> {
    let (linkup_id, user) = (id(&c.linkup_id)?, id(&c.user_id)?);
    let Some(linkup) = linkups::lock_row(tx, linkup_id).await? else {
        return Ok(());
    };
    if linkup.initiator_user_id != user {
        tracing::warn!("cancel from someone other than the initiator; ignored");
        return Ok(());
    }
    let reason_text = if c.reason_text.is_empty() {
        "initiator"
    } else {
        c.reason_text.as_str()
    };
    cancel_linkup(
        tx,
        ctx,
        cause,
        &linkup,
        CancelReason::Initiator,
        reason_text,
        Some(user),
    )
    .await
}

/// Cancels a broadcasting or locked LinkUp: invites closed, those affected told (accepted
/// invitees before the lock, every participant after), reason recorded.
pub(crate) async fn cancel_linkup(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    reason: CancelReason,
    reason_text: &str,
    by: Option<Uuid>,
) -> Result<(), MatcherError> {
    let why = Cancellation {
        reason,
        reason_text,
        by,
    };
    cancel_with(tx, ctx, cause, linkup, why).await.map(|_| ())
}

/// Why, and by whom, a LinkUp is canceled.
#[derive(Debug, Clone, Copy)]
pub struct Cancellation<'a> {
    /// The reason published in `linkup.canceled`. [`CancelReason::Admin`] also tells the
    /// initiator, who did not cancel it.
    pub reason: CancelReason,
    /// `linkups.canceled_reason`: short and free of message content.
    pub reason_text: &'a str,
    /// The user who canceled (not told); `None` for the system or an admin.
    pub by: Option<Uuid>,
}

/// Cancels `linkup` (row-locked by the caller) the way every cancel does: invites closed, those
/// affected told, reason recorded. Returns who was told, or `None` when the LinkUp was past
/// canceling (nothing changed).
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup.id, reason = why.reason.as_str_name()))]
pub async fn cancel_with(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    why: Cancellation<'_>,
) -> Result<Option<Vec<Uuid>>, MatcherError> {
    let was_locked = linkup.state == "locked";
    let Some(affected) = affected(tx, linkup).await? else {
        return Ok(None);
    };
    let v = linkup.lock_version;
    if !linkups::cancel(tx, linkup.id, &linkup.state, v, why.reason_text).await? {
        return Ok(None);
    }
    let t = Transition {
        entity_type: "linkup",
        entity_id: linkup.id,
        event_type: "linkup.canceled",
        from: Some(&linkup.state),
        to: Some("canceled"),
    };
    out::record(tx, cause, t).await?;
    let states = ["pending", "accepted"];
    lock::close(
        tx,
        cause,
        linkup.id,
        &states,
        None,
        InviteCloseReason::LinkupCanceled,
    )
    .await?;
    let mut tell: Vec<Uuid> = affected
        .into_iter()
        .filter(|u| Some(*u) != why.by)
        .collect();
    if why.reason == CancelReason::Admin && !tell.contains(&linkup.initiator_user_id) {
        tell.insert(0, linkup.initiator_user_id);
    }
    let event = LinkupCanceled {
        linkup_id: linkup.id.to_string(),
        reason: why.reason.into(),
        reason_text: why.reason_text.to_owned(),
        canceled_by_user_id: why.by.map(|u| u.to_string()).unwrap_or_default(),
        was_locked,
        affected_user_ids: tell.iter().map(Uuid::to_string).collect(),
        canceled_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        event,
        format!("linkup.canceled:{}", linkup.id),
        linkup.id.to_string(),
    )
    .await?;
    let brief = Brief::from_json(&linkup.brief);
    let when = crate::brief::local_label(linkup.event_time.unwrap_or(cause.at), &brief.timezone);
    let notice = notice(linkup.id, &brief, "canceled");
    let body = copy::canceled(&brief.activity_name, &when);
    out::tell(tx, ctx, cause, notice, &tell, &body).await?;
    Ok(Some(tell))
}

/// A participant DROPs a locked LinkUp.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
#[tracing::instrument(skip_all, fields(linkup_id = %d.linkup_id))]
pub async fn drop_out(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    d: &DropRequested,
) -> Result<(), MatcherError> {
    let (linkup_id, user) = (id(&d.linkup_id)?, id(&d.user_id)?);
    let Some(linkup) = linkups::lock_row(tx, linkup_id).await? else {
        return Ok(());
    };
    leave(tx, ctx, cause, &linkup, user, Some(&d.source_message_sid)).await
}

/// `user` leaves the locked `linkup` (locked by the caller): their place is canceled, the
/// others told, and a replacement wave or cancel follows as for a DROP. `source_sid` is the
/// DROP text; `None` when the person is gone (a deleted account), who is then not texted.
pub(crate) async fn leave(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    user: Uuid,
    source_sid: Option<&str>,
) -> Result<(), MatcherError> {
    if linkup.state != "locked" || !after::drop_participant(tx, linkup.id, user, cause.at).await? {
        return Ok(());
    }
    let t = Transition {
        entity_type: "linkup_participant",
        entity_id: user,
        event_type: "linkup.participant_dropped",
        from: Some("confirmed"),
        to: Some("canceled"),
    };
    out::record(tx, cause, t).await?;
    let remaining = linkups::participants(tx, linkup.id).await?;
    let still = i32::try_from(remaining.len()).unwrap_or(0) >= linkup.min_size;
    let event_time = linkup.event_time.unwrap_or(cause.at);
    let deadline = replacement_deadline(cause.at, event_time).filter(|_| !still);
    let event = ParticipantDropped {
        linkup_id: linkup.id.to_string(),
        user_id: user.to_string(),
        remaining_count: u32::try_from(remaining.len()).unwrap_or(0),
        still_meets_min: still,
        replacement_wave_started: deadline.is_some(),
        source_message_sid: source_sid.unwrap_or_default().to_owned(),
        dropped_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    let key = format!("linkup.participant_dropped:{}:{user}", linkup.id);
    out::publish(tx, cause, event, key, linkup.id.to_string()).await?;
    if source_sid.is_some() {
        let brief = Brief::from_json(&linkup.brief);
        let body = copy::drop_confirmed(&brief.activity_name);
        let notice = notice(linkup.id, &brief, "dropped");
        out::tell(tx, ctx, cause, notice, &[user], &body).await?;
    }
    after_drop(tx, ctx, cause, linkup, (&remaining, still), deadline).await
}

/// What follows a drop: the group goes on, one replacement wave, or (no time left) cancel.
async fn after_drop(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    (remaining, still): (&[Uuid], bool),
    deadline: Option<OffsetDateTime>,
) -> Result<(), MatcherError> {
    let brief = Brief::from_json(&linkup.brief);
    if still {
        let when =
            crate::brief::local_label(linkup.event_time.unwrap_or(cause.at), &brief.timezone);
        let body = copy::dropped_goes_on(&brief.activity_name, &when, remaining.len());
        let key = format!("goes-on:{}", cause.at.unix_timestamp());
        return out::tell(
            tx,
            ctx,
            cause,
            notice(linkup.id, &brief, &key),
            remaining,
            &body,
        )
        .await;
    }
    match deadline {
        Some(deadline) => {
            timers::schedule(tx, linkup.id, "replacement_end", 0, deadline).await?;
            let wave = (linkup.wave_count + 1, REPLACEMENT_SIZE);
            waves::invite(tx, ctx, cause, linkup, wave, deadline).await
        }
        None => {
            let reason = CancelReason::ReplacementFailed;
            cancel_linkup(tx, ctx, cause, linkup, reason, "too_few_after_drop", None).await
        }
    }
}

fn notice<'a>(linkup: Uuid, brief: &'a Brief, key: &'a str) -> Notice<'a> {
    Notice {
        linkup_id: linkup,
        timezone: &brief.timezone,
        purpose: SmsPurpose::LockNotice,
        key,
    }
}

/// The replacement wave's deadline: 4 h, but settled an hour before the event; `None` when
/// that leaves under 2 h.
fn replacement_deadline(now: OffsetDateTime, event_time: OffsetDateTime) -> Option<OffsetDateTime> {
    let end = (now + REPLACEMENT_MAX).min(event_time - REPLACEMENT_LEAD);
    (end - now >= REPLACEMENT_MIN).then_some(end)
}

/// A yes to a replacement invite of a locked LinkUp: joins while places are short of
/// min_size; once it is met again the other replacement invites close.
pub(crate) async fn join_replacement(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    user: Uuid,
) -> Result<(), MatcherError> {
    linkups::add_participants(tx, linkup.id, linkup.initiator_user_id, &[user], cause.at).await?;
    let group = linkups::participants(tx, linkup.id).await?;
    let brief = Brief::from_json(&linkup.brief);
    let event_time = linkup.event_time.unwrap_or(cause.at);
    let body = lock::lock_notice(&brief, event_time, group.len());
    out::tell(
        tx,
        ctx,
        cause,
        notice(linkup.id, &brief, "joined"),
        &[user],
        &body,
    )
    .await?;
    if i32::try_from(group.len()).unwrap_or(0) >= linkup.min_size {
        let reason = InviteCloseReason::Filled;
        lock::close(tx, cause, linkup.id, &["pending"], None, reason).await?;
    }
    Ok(())
}

/// The replacement deadline passed: still under min_size → canceled, everyone told.
pub(crate) async fn replacement_end(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
) -> Result<(), MatcherError> {
    if linkup.state != "locked" {
        return Ok(());
    }
    let group = linkups::participants(tx, linkup.id).await?;
    lock::close(
        tx,
        cause,
        linkup.id,
        &["pending"],
        None,
        InviteCloseReason::Expired,
    )
    .await?;
    if i32::try_from(group.len()).unwrap_or(0) < linkup.min_size {
        cancel_linkup(
            tx,
            ctx,
            cause,
            linkup,
            CancelReason::ReplacementFailed,
            "replacement_failed",
            None,
        )
        .await?;
    }
    Ok(())
}
