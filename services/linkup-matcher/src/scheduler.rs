//! The timer worker: claims due timers and reminders (`FOR UPDATE SKIP LOCKED`), one per
//! transaction, and applies each with its LinkUp's row lock. Time is the service clock, so tests
//! move a ManualClock and call [`run_due`].

use std::time::Duration as StdDuration;

use proto::v1::{
    Attendance, LinkupCompleted, LockReason, OutcomeReported, ReminderDue, ReminderType, SmsPurpose,
};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Notice, Transition};
use crate::store::{after, linkups, timers};
use crate::{Context, changes, copy, lock, waves};

/// Post-event prompts end this long after completion.
pub const PROMPTS_FOR: time::Duration = time::Duration::days(7);

/// Applies every timer and reminder due now; returns how many fired.
///
/// # Errors
/// [`MatcherError`] when the database fails (the failed one stays due).
pub async fn run_due(pool: &PgPool, ctx: &Context) -> Result<usize, MatcherError> {
    let mut fired = 0;
    loop {
        let mut tx = pool.begin().await?;
        let now = ctx.clock.now();
        if let Some(timer) = timers::claim_due(&mut tx, now).await? {
            fire_timer(&mut tx, ctx, &timer).await?;
            timers::mark_fired(&mut tx, timer.id, now).await?;
        } else if let Some(reminder) = timers::claim_due_reminder(&mut tx, now).await? {
            let status = remind(&mut tx, ctx, &reminder).await?;
            timers::finish_reminder(&mut tx, reminder.id, status, now).await?;
        } else {
            tx.commit().await?;
            return Ok(fired);
        }
        tx.commit().await?;
        fired += 1;
    }
}

/// Runs [`run_due`] every `every` until `shutdown`.
pub async fn run(
    pool: PgPool,
    ctx: std::sync::Arc<Context>,
    every: StdDuration,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(error) = run_due(&pool, &ctx).await {
            tracing::warn!(error = %platform::errors::ErrorChain(&error), "timer run failed; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

#[tracing::instrument(skip_all, fields(linkup_id = %timer.linkup_id, kind = %timer.kind, seq = timer.seq))]
async fn fire_timer(
    tx: &mut PgConnection,
    ctx: &Context,
    timer: &timers::Timer,
) -> Result<(), MatcherError> {
    let Some(linkup) = linkups::lock_row(tx, timer.linkup_id).await? else {
        return Ok(());
    };
    let cause = Cause::timer(linkup.correlation_id, ctx.clock.now());
    match timer.kind.as_str() {
        "wave" if waves::still_open(&linkup, cause.at) => {
            waves::send_wave(tx, ctx, &cause, &linkup, timer.seq).await?;
        }
        "window_end" => {
            lock::lock_or_expire(tx, ctx, &cause, &linkup, LockReason::WindowEndedMinMet).await?;
        }
        "replacement_end" => changes::replacement_end(tx, ctx, &cause, &linkup).await?,
        "complete" => complete(tx, &cause, &linkup).await?,
        "prompts_end" => prompts_end(tx, &cause, &linkup).await?,
        _ => {}
    }
    Ok(())
}

/// Event time + 2 h: locked → completed (once); the router starts the post-event questions.
async fn complete(
    tx: &mut PgConnection,
    cause: &Cause,
    linkup: &linkups::Linkup,
) -> Result<(), MatcherError> {
    if linkup.state != "locked"
        || !linkups::transition(
            tx,
            linkup.id,
            "locked",
            "completed",
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
        event_type: "linkup.completed",
        from: Some("locked"),
        to: Some("completed"),
    };
    out::record(tx, cause, t).await?;
    let participants = linkups::participants(tx, linkup.id).await?;
    let event = LinkupCompleted {
        linkup_id: linkup.id.to_string(),
        participant_user_ids: participants.iter().map(Uuid::to_string).collect(),
        event_time: proto::timestamp::to_timestamp_opt(linkup.event_time),
        completed_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        event,
        format!("linkup.completed:{}", linkup.id),
        linkup.id.to_string(),
    )
    .await?;
    timers::schedule(tx, linkup.id, "prompts_end", 0, cause.at + PROMPTS_FOR).await?;
    Ok(())
}

/// Seven days after completion: whoever never answered is recorded as `no_response` and the
/// router stops prompting them.
async fn prompts_end(
    tx: &mut PgConnection,
    cause: &Cause,
    linkup: &linkups::Linkup,
) -> Result<(), MatcherError> {
    for user in after::close_prompts(tx, linkup.id, cause.at).await? {
        let event = OutcomeReported {
            linkup_id: linkup.id.to_string(),
            user_id: user.to_string(),
            attendance: Attendance::NoResponse.into(),
            reported_at: Some(proto::timestamp::to_timestamp(cause.at)),
            ..OutcomeReported::default()
        };
        out::publish(
            tx,
            cause,
            event,
            format!("linkup.outcome_no_response:{}:{user}", linkup.id),
            user.to_string(),
        )
        .await?;
    }
    Ok(())
}

/// Sends a reminder to every confirmed participant of a still-locked LinkUp.
#[tracing::instrument(skip_all, fields(linkup_id = %r.linkup_id, reminder_type = %r.reminder_type))]
async fn remind(
    tx: &mut PgConnection,
    ctx: &Context,
    r: &timers::Reminder,
) -> Result<&'static str, MatcherError> {
    let Some(linkup) = linkups::lock_row(tx, r.linkup_id).await? else {
        return Ok("failed");
    };
    if linkup.state != "locked" {
        return Ok("failed");
    }
    let cause = Cause::timer(linkup.correlation_id, ctx.clock.now());
    let brief = Brief::from_json(&linkup.brief);
    let users = linkups::participants(tx, linkup.id).await?;
    let reminder_type = if r.reminder_type == "after_late_lock" {
        ReminderType::AfterLateLock
    } else {
        ReminderType::EventDay
    };
    let event = ReminderDue {
        reminder_id: r.id.to_string(),
        linkup_id: linkup.id.to_string(),
        reminder_type: reminder_type.into(),
        scheduled_for: Some(proto::timestamp::to_timestamp(r.scheduled_for)),
        user_ids: users.iter().map(Uuid::to_string).collect(),
    };
    out::publish(
        tx,
        &cause,
        event,
        format!("linkup.reminder_due:{}", r.id),
        linkup.id.to_string(),
    )
    .await?;
    let when = crate::brief::local_label(linkup.event_time.unwrap_or(cause.at), &brief.timezone);
    let body = copy::reminder(&brief.activity_name, &when, &brief.area());
    let key = format!("reminder:{}", r.reminder_type);
    let notice = Notice {
        linkup_id: linkup.id,
        timezone: &brief.timezone,
        purpose: SmsPurpose::Reminder,
        key: &key,
    };
    out::tell(tx, ctx, &cause, notice, &users, &body).await?;
    Ok("sent")
}
