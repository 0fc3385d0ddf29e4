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
use crate::out::{self, Cause, Text, Transition};
use crate::store::{after, invites, linkups, people, timers};
use crate::{Context, copy, lock, waves};

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
    let was_locked = linkup.state == "locked";
    let affected: Vec<Uuid> = if was_locked {
        linkups::participants(tx, linkup.id).await?
    } else if linkup.state == "broadcasting" {
        invites::accepted(tx, linkup.id)
            .await?
            .into_iter()
            .map(|(u, _)| u)
            .collect()
    } else {
        return Ok(());
    };
    if !linkups::cancel(
        tx,
        linkup.id,
        &linkup.state,
        linkup.lock_version,
        reason_text,
    )
    .await?
    {
        return Ok(());
    }
    let t = Transition {
        entity_type: "linkup",
        entity_id: linkup.id,
        event_type: "linkup.canceled",
        from: Some(&linkup.state),
        to: Some("canceled"),
    };
    out::record(tx, cause, t).await?;
    lock::close(
        tx,
        cause,
        linkup.id,
        &["pending", "accepted"],
        None,
        InviteCloseReason::LinkupCanceled,
    )
    .await?;
    let tell: Vec<Uuid> = affected.into_iter().filter(|u| Some(*u) != by).collect();
    let event = LinkupCanceled {
        linkup_id: linkup.id.to_string(),
        reason: reason.into(),
        reason_text: reason_text.to_owned(),
        canceled_by_user_id: by.map(|u| u.to_string()).unwrap_or_default(),
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
    tell_all(
        tx,
        ctx,
        cause,
        linkup.id,
        &brief,
        &tell,
        &copy::canceled(&brief.activity_name, &when),
        "canceled",
    )
    .await
}

/// Texts `body` to each of `users` once (keyed by `what`).
#[allow(clippy::too_many_arguments)]
async fn tell_all(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: Uuid,
    brief: &Brief,
    users: &[Uuid],
    body: &str,
    what: &str,
) -> Result<(), MatcherError> {
    for contact in people::contacts(tx, users).await? {
        let text = Text {
            to: &contact,
            body: body.to_owned(),
            purpose: SmsPurpose::LockNotice,
            idempotency_key: format!(
                "{what}-sms:{linkup}:{}:{}",
                contact.user_id,
                cause.at.unix_timestamp()
            ),
            linkup_id: linkup,
            validity_seconds: 0,
            timezone: &brief.timezone,
        };
        out::send(tx, ctx, cause, text).await?;
    }
    Ok(())
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
    let brief = Brief::from_json(&linkup.brief);
    let event_time = linkup.event_time.unwrap_or(cause.at);
    let deadline = replacement_deadline(cause.at, event_time);
    let replacing = !still && deadline.is_some();
    let event = ParticipantDropped {
        linkup_id: linkup.id.to_string(),
        user_id: user.to_string(),
        remaining_count: u32::try_from(remaining.len()).unwrap_or(0),
        still_meets_min: still,
        replacement_wave_started: replacing,
        source_message_sid: d.source_message_sid.clone(),
        dropped_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        event,
        format!("linkup.participant_dropped:{}:{user}", linkup.id),
        linkup.id.to_string(),
    )
    .await?;
    tell_all(
        tx,
        ctx,
        cause,
        linkup.id,
        &brief,
        &[user],
        &copy::drop_confirmed(&brief.activity_name),
        "dropped",
    )
    .await?;
    let when = crate::brief::local_label(event_time, &brief.timezone);
    if still {
        let body = copy::dropped_goes_on(&brief.activity_name, &when, remaining.len());
        return tell_all(
            tx, ctx, cause, linkup.id, &brief, &remaining, &body, "goes-on",
        )
        .await;
    }
    match deadline {
        Some(deadline) => {
            timers::schedule(tx, linkup.id, "replacement_end", 0, deadline).await?;
            let wave = linkup.wave_count + 1;
            waves::invite(tx, ctx, cause, &linkup, (wave, REPLACEMENT_SIZE), deadline).await
        }
        None => {
            cancel_linkup(
                tx,
                ctx,
                cause,
                &linkup,
                CancelReason::ReplacementFailed,
                "too_few_after_drop",
                None,
            )
            .await
        }
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
    let when = crate::brief::local_label(linkup.event_time.unwrap_or(cause.at), &brief.timezone);
    let url = format!(
        "{}/linkups/{}",
        ctx.public_base_url.trim_end_matches('/'),
        linkup.id
    );
    let body = copy::locked(
        &brief.activity_name,
        &when,
        &brief.area(),
        group.len(),
        &url,
    );
    tell_all(tx, ctx, cause, linkup.id, &brief, &[user], &body, "joined").await?;
    if i32::try_from(group.len()).unwrap_or(0) >= linkup.min_size {
        lock::close(
            tx,
            cause,
            linkup.id,
            &["pending"],
            None,
            InviteCloseReason::Filled,
        )
        .await?;
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
