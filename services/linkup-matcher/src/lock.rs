//! Locking a LinkUp (full, or at the window's end with enough people) and expiring it. The
//! caller holds the LinkUp's row lock; the state change is also guarded by state and
//! lock_version, so a second attempt changes nothing.

use proto::v1::{
    InviteCloseReason, InviteClosed, InviteState, LinkupExpired, LinkupLocked, LockReason,
    SmsPurpose,
};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Notice, Transition};
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
    let (group, dropped) = recheck(tx, cause, linkup, &accepted).await?;
    if i32::try_from(group.len()).unwrap_or(i32::MAX) < linkup.min_size {
        if reason == LockReason::WindowEndedMinMet {
            expire(tx, ctx, cause, linkup, &group).await?;
        }
        return Ok(false);
    }
    let brief = Brief::from_json(&linkup.brief);
    let option = pick_option(&accepted, &dropped);
    let chosen = brief.option(&option).map(|o| o.starts);
    if !linkups::mark_locked(tx, linkup.id, linkup.lock_version, chosen, cause.at).await? {
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
    let event_time = chosen.or(linkup.event_time).unwrap_or(cause.at);
    schedule_after_lock(tx, cause, linkup.id, event_time, &brief.timezone).await?;
    let selected = if brief.options.len() > 1 {
        option
    } else {
        String::new()
    };
    let locked = LinkupLocked {
        linkup_id: linkup.id.to_string(),
        initiator_user_id: linkup.initiator_user_id.to_string(),
        participant_user_ids: group.iter().map(Uuid::to_string).collect(),
        lock_version: u32::try_from(linkup.lock_version + 1).unwrap_or(0),
        locked_at: Some(proto::timestamp::to_timestamp(cause.at)),
        event_time: Some(proto::timestamp::to_timestamp(event_time)),
        reason: reason.into(),
        selected_option: selected,
        region_id: linkup.region_id.to_string(),
        activity_key: brief.activity_key.clone(),
    };
    let key = format!("linkup.locked:{}", linkup.id);
    out::publish(tx, cause, locked, key, linkup.id.to_string()).await?;
    let body = lock_notice(&brief, event_time, group.len());
    let notice = Notice {
        linkup_id: linkup.id,
        timezone: &brief.timezone,
        purpose: SmsPurpose::LockNotice,
        key: "locked",
    };
    out::tell(tx, ctx, cause, notice, &group, &body).await?;
    tracing::info!(participants = group.len(), "linkup locked");
    Ok(true)
}

/// The group at lock time (initiator first) after the safety, entitlement and block re-check,
/// and those the re-check removed (their invites closed).
async fn recheck(
    tx: &mut PgConnection,
    cause: &Cause,
    linkup: &linkups::Linkup,
    accepted: &[(Uuid, Option<String>)],
) -> Result<(Vec<Uuid>, Vec<Uuid>), MatcherError> {
    let invitees: Vec<Uuid> = accepted.iter().map(|(u, _)| *u).collect();
    let mut group = vec![linkup.initiator_user_id];
    group.extend(&invitees);
    let dropped = people::now_ineligible(tx, &invitees, &group, cause.at).await?;
    if !dropped.is_empty() {
        let reason = InviteCloseReason::Ineligible;
        close(tx, cause, linkup.id, &["accepted"], Some(&dropped), reason).await?;
        group.retain(|u| !dropped.contains(u));
    }
    Ok((group, dropped))
}

/// Completion at event time + 2 h and the reminder (09:00 local, or an hour after a late lock).
async fn schedule_after_lock(
    tx: &mut PgConnection,
    cause: &Cause,
    linkup: Uuid,
    event_time: OffsetDateTime,
    timezone: &str,
) -> Result<(), MatcherError> {
    timers::schedule(tx, linkup, "complete", 0, event_time + COMPLETE_AFTER).await?;
    let (remind_at, late) = timewin::reminder_time(event_time, cause.at, timezone);
    let kind = if late { "after_late_lock" } else { "event_day" };
    timers::schedule_reminder(tx, linkup, kind, remind_at).await?;
    Ok(())
}

/// The lock notice: activity, time, area, head count, how to DROP (the page link follows from
/// the router).
pub fn lock_notice(brief: &Brief, event_time: OffsetDateTime, people: usize) -> String {
    let when = crate::brief::local_label(event_time, &brief.timezone);
    copy::locked(&brief.activity_name, &when, &brief.area(), people)
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
    let (id, v) = (linkup.id, linkup.lock_version);
    if !linkups::transition(tx, id, "broadcasting", "expired", v, cause.at).await? {
        return Ok(());
    }
    let t = Transition {
        entity_type: "linkup",
        entity_id: id,
        event_type: "linkup.expired",
        from: Some("broadcasting"),
        to: Some("expired"),
    };
    out::record(tx, cause, t).await?;
    let states = ["pending", "accepted"];
    close(
        tx,
        cause,
        id,
        &states,
        None,
        InviteCloseReason::LinkupExpired,
    )
    .await?;
    let initiator = [linkup.initiator_user_id];
    let accepted: Vec<Uuid> = group
        .iter()
        .copied()
        .filter(|u| *u != initiator[0])
        .collect();
    let expired = LinkupExpired {
        linkup_id: id.to_string(),
        initiator_user_id: initiator[0].to_string(),
        accepted_user_ids: accepted.iter().map(Uuid::to_string).collect(),
        min_size: u32::try_from(linkup.min_size).unwrap_or(0),
        expired_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        expired,
        format!("linkup.expired:{id}"),
        id.to_string(),
    )
    .await?;
    let brief = Brief::from_json(&linkup.brief);
    let (tz, activity) = (brief.timezone.as_str(), brief.activity_name.as_str());
    let notice = Notice {
        linkup_id: id,
        timezone: tz,
        purpose: SmsPurpose::LockNotice,
        key: "expired",
    };
    out::tell(
        tx,
        ctx,
        cause,
        notice,
        &initiator,
        &copy::expired_initiator(activity),
    )
    .await?;
    out::tell(
        tx,
        ctx,
        cause,
        notice,
        &accepted,
        &copy::expired_accepted(activity),
    )
    .await?;
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
