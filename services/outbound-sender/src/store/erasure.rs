//! Scrubbing a deleted person's texts: outbound jobs and `direction = 'out'` messages keep their
//! metadata (purpose, status, SID, segments, times) but lose the body and the number.

use sqlx::PgConnection;
use uuid::Uuid;

/// What a scrubbed row holds instead of the person's number.
pub const SCRUBBED: &str = "deleted";

/// The numbers JOSH texted `user_id` (or `phone_hash`) at, still in clear.
///
/// # Errors
/// When the query fails.
#[tracing::instrument(skip_all)]
pub async fn numbers_of(
    tx: &mut PgConnection,
    user_id: Uuid,
    phone_hash: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select distinct to_e164 as "to_e164!" from (
             select to_e164 from sms_outbound_jobs where user_id = $1 or phone_hash = $2
             union all
             select to_e164 from sms_messages where direction = 'out' and user_id = $1
           ) t where to_e164 <> $3"#,
        user_id,
        phone_hash,
        SCRUBBED
    )
    .fetch_all(&mut *tx)
    .await
}

/// Cancels the person's pending jobs that no worker started, except those of the deletion
/// itself (`keep_correlation`: the confirmation text still goes out). Returns how many.
///
/// # Errors
/// When the update fails.
#[tracing::instrument(skip_all)]
pub async fn cancel_pending(
    tx: &mut PgConnection,
    user_id: Uuid,
    phone_hash: &str,
    keep_correlation: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    let canceled = sqlx::query!(
        "update sms_outbound_jobs
            set status = 'suppressed', last_error = 'account deleted'
          where (user_id = $1 or phone_hash = $2) and status = 'pending'
            and send_started_at is null and lease_owner is null
            and correlation_id is distinct from $3",
        user_id,
        phone_hash,
        keep_correlation
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(canceled)
}

/// Scrubs every settled job and outbound message of the person; pending jobs (the deletion's
/// own confirmation, or one a worker is sending) are scrubbed when they settle.
///
/// # Errors
/// When an update fails.
#[tracing::instrument(skip_all)]
pub async fn scrub_settled(
    tx: &mut PgConnection,
    user_id: Uuid,
    phone_hash: &str,
    numbers: &[String],
) -> Result<u64, sqlx::Error> {
    let jobs = sqlx::query!(
        "update sms_outbound_jobs
            set body_ciphertext = null, body_iv = null, body_tag = null, to_e164 = $3
          where (user_id = $1 or phone_hash = $2) and status <> 'pending'
            and (to_e164 <> $3 or body_ciphertext is not null)",
        user_id,
        phone_hash,
        SCRUBBED
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let messages = sqlx::query!(
        "update sms_messages
            set body_ciphertext = null, body_iv = null, body_tag = null, to_e164 = $3
          where direction = 'out' and (user_id = $1 or to_e164 = any($2))
            and (to_e164 <> $3 or body_ciphertext is not null)",
        user_id,
        numbers,
        SCRUBBED
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(jobs + messages)
}

/// Whether `user_id` was deleted.
///
/// # Errors
/// When the query fails.
#[tracing::instrument(skip_all)]
pub async fn is_deleted(tx: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query_scalar!(
        r#"select deleted_at is not null as "deleted!" from users where id = $1"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(deleted.unwrap_or(false))
}
