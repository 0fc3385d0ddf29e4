//! Durable timers (`linkup_timers`) and reminders (`linkup_reminders`): rows written once per
//! key, claimed when due with `FOR UPDATE SKIP LOCKED`, marked in the claiming transaction.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A due timer.
#[derive(Debug, Clone)]
pub struct Timer {
    /// linkup_timers.id.
    pub id: Uuid,
    /// Its LinkUp.
    pub linkup_id: Uuid,
    /// `wave`, `window_end`, `complete`, `prompts_end`.
    pub kind: String,
    /// Wave number for waves.
    pub seq: i32,
}

/// Schedules a timer once per (LinkUp, kind, seq).
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id, kind, seq))]
pub async fn schedule(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    kind: &str,
    seq: i32,
    due_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into linkup_timers (linkup_id, kind, seq, due_at) values ($1, $2, $3, $4)
         on conflict (linkup_id, kind, seq) do nothing",
        linkup_id,
        kind,
        seq,
        due_at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Claims the earliest due, unfired timer that no other worker holds.
#[tracing::instrument(skip_all)]
pub async fn claim_due(
    tx: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<Option<Timer>, sqlx::Error> {
    sqlx::query_as!(
        Timer,
        "select id, linkup_id, kind, seq from linkup_timers
         where fired_at is null and due_at <= $1
         order by due_at, id limit 1
         for update skip locked",
        now
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Marks a claimed timer fired.
#[tracing::instrument(skip_all, fields(timer_id = %id))]
pub async fn mark_fired(
    tx: &mut PgConnection,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update linkup_timers set fired_at = $2 where id = $1",
        id,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A due reminder.
#[derive(Debug, Clone)]
pub struct Reminder {
    /// linkup_reminders.id.
    pub id: Uuid,
    /// Its LinkUp.
    pub linkup_id: Uuid,
    /// `event_day` or `after_late_lock`.
    pub reminder_type: String,
    /// When it was due.
    pub scheduled_for: OffsetDateTime,
}

/// Schedules a reminder once per LinkUp and type.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id, reminder_type))]
pub async fn schedule_reminder(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    reminder_type: &str,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let key = format!("reminder:{linkup_id}:{reminder_type}");
    sqlx::query!(
        "insert into linkup_reminders (linkup_id, reminder_type, scheduled_for, idempotency_key)
         values ($1, $2, $3, $4) on conflict (idempotency_key) do nothing",
        linkup_id,
        reminder_type,
        at,
        key
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Claims the earliest due pending reminder that no other worker holds.
#[tracing::instrument(skip_all)]
pub async fn claim_due_reminder(
    tx: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<Option<Reminder>, sqlx::Error> {
    sqlx::query_as!(
        Reminder,
        "select id, linkup_id, reminder_type, scheduled_for from linkup_reminders
         where status = 'pending' and scheduled_for <= $1
         order by scheduled_for, id limit 1
         for update skip locked",
        now
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Marks a claimed reminder sent (or failed, when its LinkUp no longer runs).
#[tracing::instrument(skip_all, fields(reminder_id = %id, status))]
pub async fn finish_reminder(
    tx: &mut PgConnection,
    id: Uuid,
    status: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update linkup_reminders set status = $2, sent_at = $3 where id = $1",
        id,
        status,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
