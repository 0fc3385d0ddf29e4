//! Locking a LinkUp (full, or at the window's end with enough people) and expiring it. The
//! caller holds the LinkUp's row lock; the state change is also guarded by state and
//! lock_version, so a second attempt changes nothing.

use proto::v1::{
    InviteCloseReason, InviteClosed, InviteState, LinkupExpired, LinkupLocked, LockReason,
    SmsPurpose,
};
use sqlx::PgConnection;
use time::Duration;
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Text, Transition};
use crate::store::{invites, linkups, people, timers};
use crate::{Context, copy, timewin};

/// Completion comes this long after the event starts.
pub const COMPLETE_AFTER: Duration = Duration::hours(2);

/// Locks `linkup` (row-locked by the caller) if its accepted invitees still qualify and reach
/// `min_size`; otherwise, at the window's end, expires it. Returns whether it locked.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup.id, reason = reason.as_str_name()))]
pub async fn lock_or_expire(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    reason: LockReason,
) -> Result<bool, MatcherError> {
    if linkup.state != "broadcasting" {
        return Ok(false);
    }
    let accepted = invites::accepted(tx, linkup.id).await?;
    let mut group: Vec<Uuid> = vec![linkup.initiator_user_id];
    group.extend(accepted.iter().map(|(u, _)| *u));
    let invitees: Vec<Uuid> = accepted.iter().map(|(u, _)| *u).collect();
    let dropped = people::now_ineligible(tx, &invitees, &group, cause.at).await?;
    if !dropped.is_empty() {
        close(
            tx,
            cause,
            linkup.id,
            &["accepted"],
            Some(&dropped),
            InviteCloseReason::Ineligible,
        )
        .await?;
        group.retain(|u| !dropped.contains(u));
    }
    let size = i32::try_from(group.len()).unwrap_or(i32::MAX);
    if size < linkup.min_size {
        if reason == LockReason::WindowEndedMinMet {
            expire(tx, ctx, cause, linkup, &group).await?;
        }
        return Ok(false);
    }
    let brief = Brief::from_json(&linkup.brief);
    let option = pick_option(&accepted, &dropped);
    let chosen = brief.option(&option).cloned();
    let event_time = chosen.as_ref().map(|o| o.starts);
    if !linkups::mark_locked(tx, linkup.id, linkup.lock_version, event_time, cause.at).await? {
        return Ok(false);
    }
    let t = Transition {
        entity_type: "linkup",
        entity_id: linkup.id,
        event_type: "linkup.locked",
        from: Some("broadcasting"),
        to: Some("locked"),
    };
    out::record(tx, cause, t).await?;
    linkups::add_participants(tx, linkup.id, linkup.initiator_user_id, &group, cause.at).await?;
    close(
        tx,
        cause,
        linkup.id,
        &["pending"],
        None,
        InviteCloseReason::Filled,
    )
    .await?;
    let event_time = event_time.or(linkup.event_time).unwrap_or(cause.at);
    timers::schedule(tx, linkup.id, "complete", 0, event_time + COMPLETE_AFTER).await?;
    let (remind_at, late) = timewin::reminder_time(event_time, cause.at, &brief.timezone);
    timers::schedule_reminder(
        tx,
        linkup.id,
        if late { "after_late_lock" } else { "event_day" },
        remind_at,
    )
    .await?;
    let locked = LinkupLocked {
        linkup_id: linkup.id.to_string(),
        initiator_user_id: linkup.initiator_user_id.to_string(),
        participant_user_ids: group.iter().map(Uuid::to_string).collect(),
        lock_version: u32::try_from(linkup.lock_version + 1).unwrap_or(0),
        locked_at: Some(proto::timestamp::to_timestamp(cause.at)),
        event_time: Some(proto::timestamp::to_timestamp(event_time)),
        reason: reason.into(),
        selected_option: if brief.options.len() > 1 {
            option
        } else {
            String::new()
        },
        region_id: linkup.region_id.to_string(),
        activity_key: brief.activity_key.clone(),
    };
    out::publish(
        tx,
        cause,
        locked,
        format!("linkup.locked:{}", linkup.id),
        linkup.id.to_string(),
    )
    .await?;
    let when = crate::brief::local_label(event_time, &brief.timezone);
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
    for contact in people::contacts(tx, &group).await? {
        let text = Text {
            to: &contact,
            body: body.clone(),
            purpose: SmsPurpose::LockNotice,
            idempotency_key: format!("locked-sms:{}:{}", linkup.id, contact.user_id),
            linkup_id: linkup.id,
            validity_seconds: 0,
            timezone: &brief.timezone,
        };
        out::send(tx, ctx, cause, text).await?;
    }
    tracing::info!(participants = group.len(), "linkup locked");
    Ok(true)
}

/// The option most accepted invitees picked (ties and no picks: A).
fn pick_option(accepted: &[(Uuid, Option<String>)], dropped: &[Uuid]) -> String {
    let votes = |label: &str| {
        accepted
            .iter()
            .filter(|(u, o)| !dropped.contains(u) && o.as_deref() == Some(label))
            .count()
    };
    if votes("B") > votes("A") {
        "B".to_owned()
    } else {
        "A".to_owned()
    }
}

/// Window ended under min_size: expired, invites closed, initiator and acceptors told.
async fn expire(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    group: &[Uuid],
) -> Result<(), MatcherError> {
    if !linkups::transition(
        tx,
        linkup.id,
        "broadcasting",
        "expired",
        linkup.lock_version,
        cause.at,
    )
    .await?
    {
        return Ok(());
    }
    let t = Transition {
        entity_type: "linkup",
        entity_id: linkup.id,
        event_type: "linkup.expired",
        from: Some("broadcasting"),
        to: Some("expired"),
    };
    out::record(tx, cause, t).await?;
    close(
        tx,
        cause,
        linkup.id,
        &["pending", "accepted"],
        None,
        InviteCloseReason::LinkupExpired,
    )
    .await?;
    let accepted: Vec<Uuid> = group
        .iter()
        .copied()
        .filter(|u| *u != linkup.initiator_user_id)
        .collect();
    let expired = LinkupExpired {
        linkup_id: linkup.id.to_string(),
        initiator_user_id: linkup.initiator_user_id.to_string(),
        accepted_user_ids: accepted.iter().map(Uuid::to_string).collect(),
        min_size: u32::try_from(linkup.min_size).unwrap_or(0),
        expired_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        expired,
        format!("linkup.expired:{}", linkup.id),
        linkup.id.to_string(),
    )
    .await?;
    let brief = Brief::from_json(&linkup.brief);
    for contact in people::contacts(tx, group).await? {
        let body = if contact.user_id == linkup.initiator_user_id {
            copy::expired_initiator(&brief.activity_name)
        } else {
            copy::expired_accepted(&brief.activity_name)
        };
        let text = Text {
            to: &contact,
            body,
            purpose: SmsPurpose::LockNotice,
            idempotency_key: format!("expired-sms:{}:{}", linkup.id, contact.user_id),
            linkup_id: linkup.id,
            validity_seconds: 0,
            timezone: &brief.timezone,
        };
        out::send(tx, ctx, cause, text).await?;
    }
    tracing::info!("linkup expired under min_size");
    Ok(())
}

/// Closes invites of a LinkUp in `states` (optionally only `users`'), publishing each.
pub async fn close(
    tx: &mut PgConnection,
    cause: &Cause,
    linkup_id: Uuid,
    states: &[&str],
    users: Option<&[Uuid]>,
    reason: InviteCloseReason,
) -> Result<(), MatcherError> {
    let closed = invites::close(tx, linkup_id, states, users, "closed", cause.at).await?;
    for (invite_id, user, before) in closed {
        let t = Transition {
            entity_type: "linkup_invite",
            entity_id: invite_id,
            event_type: "linkup.invite_closed",
            from: Some(&before),
            to: Some("closed"),
        };
        out::record(tx, cause, t).await?;
        let event = InviteClosed {
            invite_id: invite_id.to_string(),
            linkup_id: linkup_id.to_string(),
            user_id: user.to_string(),
            state: InviteState::Closed.into(),
            reason: reason.into(),
            had_replied: before != "pending",
            closed_at: Some(proto::timestamp::to_timestamp(cause.at)),
        };
        out::publish(
            tx,
            cause,
            event,
            format!("linkup.invite_closed:{invite_id}"),
            user.to_string(),
        )
        .await?;
    }
    Ok(())
}
