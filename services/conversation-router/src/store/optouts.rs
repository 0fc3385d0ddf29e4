//! JOSH's own opt-out record, per phone (product-rules §1: JOSH keeps its own opt-out record),
//! mirrored on `users.opted_out_at` for registered users.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::arrival::Window;

/// Whether the phone is currently opted out.
#[tracing::instrument(skip_all)]
pub async fn is_opted_out(tx: &mut PgConnection, phone_hash: &str) -> Result<bool, sqlx::Error> {
    let opted_out = sqlx::query_scalar!(
        r#"select exists (select 1 from phone_opt_outs
                          where phone_hash = $1 and opted_out_at is not null) as "opted_out!""#,
        phone_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(opted_out)
}

/// Records an opt-out; returns false when the phone was already opted out (nothing changes, so
/// no second confirmation is sent).
#[tracing::instrument(skip_all, fields(source))]
pub async fn opt_out(
    tx: &mut PgConnection,
    phone_hash: &str,
    user_id: Option<Uuid>,
    source: &str,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "insert into phone_opt_outs (phone_hash, user_id, opted_out_at, source)
         values ($1, $2, $3, $4)
         on conflict (phone_hash) do update
           set opted_out_at = excluded.opted_out_at, source = excluded.source,
               user_id = coalesce(excluded.user_id, phone_opt_outs.user_id)
           where phone_opt_outs.opted_out_at is null",
        phone_hash,
        user_id,
        at,
        source
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 1 {
        mirror_on_user(tx, phone_hash, Some(at)).await?;
    }
    Ok(changed == 1)
}

/// Records an opt-in; returns false when the phone was not opted out.
#[tracing::instrument(skip_all)]
pub async fn opt_in(
    tx: &mut PgConnection,
    phone_hash: &str,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "update phone_opt_outs set opted_out_at = null, opted_in_at = $2
         where phone_hash = $1 and opted_out_at is not null",
        phone_hash,
        at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 1 {
        mirror_on_user(tx, phone_hash, None).await?;
    }
    Ok(changed == 1)
}

async fn mirror_on_user(
    tx: &mut PgConnection,
    phone_hash: &str,
    opted_out_at: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update users set opted_out_at = $2 where phone_hash = $1",
        phone_hash,
        opted_out_at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What the rate limit makes of a text already counted in `window` (product-rules §1 step 4):
/// over the limit, the window's first such text is answered "slow down" (and the window marks
/// it), the rest are dropped.
#[tracing::instrument(skip_all)]
pub async fn rate_decision(
    tx: &mut PgConnection,
    phone_hash: &str,
    window: Window,
    limit: i32,
) -> Result<RateDecision, sqlx::Error> {
    if window.message_count <= limit {
        return Ok(RateDecision::Allow);
    }
    if window.warned {
        return Ok(RateDecision::Drop);
    }
    sqlx::query!(
        "update inbound_rate_windows set warned = true where phone_hash = $1",
        phone_hash
    )
    .execute(&mut *tx)
    .await?;
    Ok(RateDecision::WarnOnce)
}

/// What the rate limit says about one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Within the limit.
    Allow,
    /// Over the limit for the first time this window: one "slow down" reply.
    WarnOnce,
    /// Over the limit again: no reply.
    Drop,
}
