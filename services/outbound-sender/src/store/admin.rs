//! The admin API's SQL: pauses set and lifted by admins, the queue by state, and resends.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Pauses `sender` as `admin` (again, if it was resumed); true when it was not paused before.
/// An existing pause (an admin's or Twilio's) stands unchanged.
#[tracing::instrument(skip_all, fields(sender))]
pub async fn pause(
    tx: &mut PgConnection,
    sender: &str,
    reason: &str,
    admin: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "insert into sms_sender_pauses (sender, paused_at, reason, error_code, paused_by_admin)
         values ($1, $2, $3, null, $4)
         on conflict (sender) do update
            set paused_at = excluded.paused_at, reason = excluded.reason, error_code = null,
                paused_by_admin = excluded.paused_by_admin, resumed_at = null,
                resumed_by_admin = null
          where sms_sender_pauses.resumed_at is not null",
        sender,
        at,
        reason,
        admin
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Lifts the pause of `sender`, whoever set it; true when it was paused.
#[tracing::instrument(skip_all, fields(sender))]
pub async fn resume(
    tx: &mut PgConnection,
    sender: &str,
    admin: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "update sms_sender_pauses set resumed_at = $2, resumed_by_admin = $3
          where sender = $1 and resumed_at is null",
        sender,
        at,
        admin
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// A sender that is paused now.
#[derive(Debug, Clone)]
pub struct Paused {
    /// From number, Messaging Service SID or `*`.
    pub sender: String,
    /// Why.
    pub reason: String,
    /// The Twilio error, for an automatic pause.
    pub error_code: Option<i32>,
    /// Since when.
    pub paused_at: OffsetDateTime,
    /// The pausing admin's email.
    pub paused_by: Option<String>,
}

/// Every sender paused now, oldest pause first.
#[tracing::instrument(skip_all)]
pub async fn paused(tx: &mut PgConnection) -> Result<Vec<Paused>, sqlx::Error> {
    sqlx::query_as!(
        Paused,
        r#"select p.sender, p.reason, p.error_code, p.paused_at, a.email::text as paused_by
             from sms_sender_pauses p left join admin_users a on a.id = p.paused_by_admin
            where p.resumed_at is null
            order by p.paused_at, p.sender"#
    )
    .fetch_all(&mut *tx)
    .await
}

/// Jobs per status, and pending jobs due at `now`.
#[tracing::instrument(skip_all)]
pub async fn queue(
    tx: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<(Vec<(String, i64)>, i64), sqlx::Error> {
    let rows = sqlx::query!(
        r#"select status, count(*) as "jobs!" from sms_outbound_jobs group by status order by status"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let due = sqlx::query_scalar!(
        r#"select count(*) as "n!" from sms_outbound_jobs where status = 'pending' and run_at <= $1"#,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok((rows.into_iter().map(|r| (r.status, r.jobs)).collect(), due))
}

/// A job an admin may want to send again.
#[derive(Debug, Clone)]
pub struct Original {
    /// `pending`, `sent`, `failed` or `suppressed`.
    pub status: String,
    /// Twilio's delivery status, for a sent job.
    pub delivery_status: Option<String>,
    /// The recipient user.
    pub user_id: Option<Uuid>,
    /// Recipient.
    pub to_e164: String,
    /// Keyed hash of the recipient.
    pub phone_hash: Option<String>,
    /// The stored body; `None` once retention purged it.
    pub body: Option<crypto::EncryptedBody>,
    /// Associated data of the body.
    pub idempotency_key: String,
    /// Purpose.
    pub purpose: String,
    /// Bypasses quiet hours.
    pub urgent: bool,
    /// Segments.
    pub segments: Option<i32>,
    /// Correlation id.
    pub correlation_id: Option<Uuid>,
}

/// The job `id`, locked, if it exists.
#[tracing::instrument(skip_all)]
pub async fn original_for_update(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Original>, sqlx::Error> {
    let row = sqlx::query!(
        "select status, delivery_status, user_id, to_e164, phone_hash, key_version, body_iv,
                body_ciphertext, body_tag, idempotency_key, purpose, urgent, segments,
                correlation_id
           from sms_outbound_jobs where id = $1 for update",
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Original {
        status: r.status,
        delivery_status: r.delivery_status,
        user_id: r.user_id,
        to_e164: r.to_e164,
        phone_hash: r.phone_hash,
        body: super::claim::stored_body(r.key_version, r.body_iv, r.body_ciphertext, r.body_tag),
        idempotency_key: r.idempotency_key,
        purpose: r.purpose,
        urgent: r.urgent,
        segments: r.segments,
        correlation_id: r.correlation_id,
    }))
}

/// The job that already resends `id`, if any.
#[tracing::instrument(skip_all)]
pub async fn resent_by(tx: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select id from sms_outbound_jobs where resent_from = $1 limit 1",
        id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Links the (just inserted) job `id` to the job it resends.
#[tracing::instrument(skip_all)]
pub async fn link_resend(
    tx: &mut PgConnection,
    id: Uuid,
    resent_from: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update sms_outbound_jobs set resent_from = $2 where id = $1",
        id,
        resent_from
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
