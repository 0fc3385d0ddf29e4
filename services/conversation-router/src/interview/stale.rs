//! Staleness (product-rules §3, decision): a complete profile that has not changed for 180
//! days becomes `stale`. It still takes part in matching and gets one gentle refresh prompt; the
//! next answer or PROFILE update makes it fresh again.

use sqlx::PgPool;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::replies::{self, Origin, Recipient, Reply};
use crate::store::profiles;

/// Unchanged this long, a profile is stale.
pub const STALE_AFTER: time::Duration = time::Duration::days(180);
/// Profiles marked per transaction.
const BATCH: i64 = 100;

/// Marks every profile due as stale and sends each its one refresh prompt; returns how many.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails (nothing of the batch is kept).
#[tracing::instrument(skip_all)]
pub async fn run_once(pool: &PgPool, ctx: &Context) -> Result<usize, RouterError> {
    let now = ctx.clock.now();
    let mut marked = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = profiles::claim_stale(&mut tx, now - STALE_AFTER, now, BATCH).await?;
        let origin = Origin::job(now);
        for person in &due {
            let to = Recipient {
                user_id: Some(person.id),
                phone_e164: &person.phone_e164,
                phone_hash: &person.phone_hash,
            };
            let reply = Reply::with_purpose(
                copy::refresh(&person.first_name),
                proto::v1::SmsPurpose::Interview,
            );
            let key = format!("stale_refresh:{}:{}", person.id, now.unix_timestamp());
            replies::send(&mut tx, &ctx.keyring, &origin, &to, &reply, key).await?;
        }
        tx.commit().await?;
        marked += due.len();
        if due.len() < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(marked);
        }
    }
}
