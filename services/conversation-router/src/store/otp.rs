//! One-time codes (otp_sessions, only keyed hashes) and the hourly windows that limit them.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The open (unverified) code of a user.
#[derive(Debug, Clone)]
pub struct OpenCode {
    /// otp_sessions.id.
    pub id: Uuid,
    /// Keyed hash of the code.
    pub otp_hash: String,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Wrong tries so far.
    pub attempts: i32,
    /// When it was sent.
    pub sent_at: Option<OffsetDateTime>,
}

/// The user's open code, locked for this transaction.
#[tracing::instrument(skip_all)]
pub async fn open_code(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<OpenCode>, sqlx::Error> {
    sqlx::query_as!(
        OpenCode,
        "select id, otp_hash, expires_at, attempts, sent_at from otp_sessions
         where user_id = $1 and verified_at is null for update",
        user_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Stores a new code for the user, replacing the open one and resetting its tries.
#[tracing::instrument(skip_all)]
pub async fn replace_code(
    tx: &mut PgConnection,
    user_id: Uuid,
    otp_hash: &str,
    sent_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into otp_sessions (user_id, otp_hash, expires_at, sent_at)
         values ($1, $2, $3, $4)
         on conflict on constraint otp_one_active_per_user
         do update set otp_hash = excluded.otp_hash, expires_at = excluded.expires_at,
                       sent_at = excluded.sent_at, attempts = 0",
        user_id,
        otp_hash,
        expires_at,
        sent_at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Counts a wrong try; returns the tries so far.
#[tracing::instrument(skip_all)]
pub async fn add_attempt(tx: &mut PgConnection, id: Uuid) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "update otp_sessions set attempts = attempts + 1 where id = $1 returning attempts",
        id
    )
    .fetch_one(&mut *tx)
    .await
}

/// Marks the code used.
#[tracing::instrument(skip_all)]
pub async fn mark_verified(
    tx: &mut PgConnection,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update otp_sessions set verified_at = $2 where id = $1",
        id,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Counts one hit against `scope`/`key` in a fixed window of `window` starting at the first
/// hit; returns the hits in the current window (this one included).
#[tracing::instrument(skip_all, fields(scope))]
pub async fn hit(
    tx: &mut PgConnection,
    scope: &str,
    key: &str,
    now: OffsetDateTime,
    window: time::Duration,
) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into http_rate_windows (scope, key, window_start, hits) values ($1, $2, $3, 1)
         on conflict (scope, key) do update set
           hits = case when http_rate_windows.window_start <= $3 - $4::bigint * interval '1 second' then 1
                       else http_rate_windows.hits + 1 end,
           window_start = case when http_rate_windows.window_start <= $3 - $4::bigint * interval '1 second' then $3
                               else http_rate_windows.window_start end
         returning hits",
        scope,
        key,
        now,
        window.whole_seconds()
    )
    .fetch_one(&mut *tx)
    .await
}
