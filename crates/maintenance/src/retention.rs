//! Body retention: bodies older than the window are nulled; metadata stays.

use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use crate::MaintenanceError;

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

/// Nulls every body created before `now - window`, `batch` rows per transaction; an outbound
/// job keeps its body while it is still pending. `progress` hears each batch's count.
///
/// # Errors
/// [`MaintenanceError::Database`] when a batch fails (earlier batches stay committed; run again).
#[tracing::instrument(skip_all, fields(window_days = window.whole_days()))]
pub async fn run(
    pool: &PgPool,
    now: OffsetDateTime,
    window: Duration,
    batch: i64,
    mut progress: impl FnMut(&'static str, u64),
) -> Result<RetentionReport, MaintenanceError> {
    let cutoff = now - window;
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
        progress("sms_messages", done);
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
        progress("sms_outbound_jobs", done);
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
