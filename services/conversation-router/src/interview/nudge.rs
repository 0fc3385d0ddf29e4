//! The dropout nudge (product-rules §3): one text after 24 h of silence mid-interview, never to a
//! phone that opted out, and only once per silence (a new text from the user re-arms it).

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::replies::{self, Origin, Recipient, Reply};
use crate::store::sessions;

/// Silence after which the nudge goes out.
pub const NUDGE_AFTER: time::Duration = time::Duration::hours(24);
/// Interviews nudged per transaction.
const BATCH: i64 = 100;

/// Sends every due nudge; returns how many went out. Safe to run on several replicas at once:
/// due sessions are claimed with `SKIP LOCKED`.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails (nothing of the batch is kept).
#[tracing::instrument(skip_all)]
pub async fn run_once(pool: &PgPool, ctx: &Context) -> Result<usize, RouterError> {
    let now = ctx.clock.now();
    let mut sent = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = sessions::claim_quiet_interviews(&mut tx, now - NUDGE_AFTER, BATCH).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok(sent);
        }
        let origin = Origin::job(now);
        for quiet in &due {
            let to = Recipient {
                user_id: Some(quiet.user_id),
                phone_e164: &quiet.phone_e164,
                phone_hash: &quiet.phone_hash,
            };
            let reply = Reply::with_purpose(
                copy::nudge(&quiet.first_name),
                proto::v1::SmsPurpose::Interview,
            );
            let key = format!("nudge:{}:{}", quiet.user_id, unix(quiet.last_inbound_at));
            replies::send(&mut tx, &ctx.keyring, &origin, &to, &reply, key).await?;
            sessions::mark_nudged(&mut tx, quiet.user_id, now).await?;
        }
        tx.commit().await?;
        sent += due.len();
    }
}

fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// Runs [`run_once`] and the staleness pass every `every` until `shutdown` fires; a failed pass is logged and retried
/// on the next tick.
pub async fn run(
    pool: PgPool,
    ctx: std::sync::Arc<Context>,
    every: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match run_once(&pool, &ctx).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "dropout nudges sent"),
            Err(error) => {
                tracing::warn!(error = %platform::errors::ErrorChain(&error), "nudge pass failed");
            }
        }
        match super::stale::run_once(&pool, &ctx).await {
            Ok(0) => {}
            Ok(marked) => tracing::info!(marked, "profiles marked stale"),
            Err(error) => {
                tracing::warn!(error = %platform::errors::ErrorChain(&error), "staleness pass failed");
            }
        }
    }
}
