//! Body retention: bodies older than the window are nulled; metadata stays.

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use crate::{MaintenanceError, Progress, Tracker};

/// The default retention window (design.md: 30 days).
pub const DEFAULT_WINDOW: Duration = Duration::days(30);

/// What one retention run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// `sms_messages` bodies nulled.
    pub messages: u64,
    /// `sms_outbound_jobs` bodies nulled.
    pub jobs: u64,
}

/// Bodies older than `now - window` that a run would null now, per table.
///
/// # Errors
/// [`MaintenanceError::Database`] when the database fails.
#[tracing::instrument(skip_all)]
pub async fn due(
    pool: &PgPool,
    now: OffsetDateTime,
    window: Duration,
) -> Result<RetentionReport, MaintenanceError> {
    let cutoff = now - window;
    let messages = sqlx::query_scalar!(
        r#"select count(*) as "n!" from sms_messages
           where created_at < $1 and body_ciphertext is not null"#,
        cutoff
    )
    .fetch_one(pool)
    .await?;
    let jobs = sqlx::query_scalar!(
        r#"select count(*) as "n!" from sms_outbound_jobs
           where created_at < $1 and body_ciphertext is not null and status <> 'pending'"#,
        cutoff
    )
    .fetch_one(pool)
    .await?;
    Ok(RetentionReport {
        messages: u64::try_from(messages).unwrap_or(0),
        jobs: u64::try_from(jobs).unwrap_or(0),
    })
}

/// Nulls every body created before `now - window`, `batch` rows per transaction; an outbound
/// job keeps its body while it is still pending. `progress` hears the count of [`due`] bodies
/// first, then every committed batch.
///
/// # Errors
/// [`MaintenanceError::Database`] when a batch fails (earlier batches stay committed; run again).
#[tracing::instrument(skip_all, fields(window_days = window.whole_days()))]
pub async fn run(
    pool: &PgPool,
    now: OffsetDateTime,
    window: Duration,
    batch: i64,
    progress: impl FnMut(Progress),
) -> Result<RetentionReport, MaintenanceError> {
    let cutoff = now - window;
    let expected = due(pool, now, window).await?;
    let mut tracker = Tracker::start(expected.messages + expected.jobs, "sms_messages", progress);
    let mut report = RetentionReport::default();
    loop {
        let done = sqlx::query!(
            "update sms_messages set body_ciphertext = null, body_iv = null, body_tag = null
             where id in (select id from sms_messages
                          where created_at < $1 and body_ciphertext is not null
                          limit $2 for update skip locked)",
            cutoff,
            batch
        )
        .execute(pool)
        .await?
        .rows_affected();
        report.messages += done;
        tracker.batch("sms_messages", done);
        if done == 0 {
            break;
        }
    }
    loop {
        let done = sqlx::query!(
            "update sms_outbound_jobs set body_ciphertext = null, body_iv = null, body_tag = null
             where id in (select id from sms_outbound_jobs
                          where created_at < $1 and body_ciphertext is not null
                            and status <> 'pending'
                          limit $2 for update skip locked)",
            cutoff,
            batch
        )
        .execute(pool)
        .await?
        .rows_affected();
        report.jobs += done;
        tracker.batch("sms_outbound_jobs", done);
        if done == 0 {
            break;
        }
    }
    tracing::info!(
        messages = report.messages,
        jobs = report.jobs,
        "retention run finished"
    );
    Ok(report)
}
