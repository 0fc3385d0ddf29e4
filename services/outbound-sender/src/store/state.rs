//! What the sender reads and keeps besides jobs: recipients (users, regions), the suppression
//! list, paused senders and the outbound `sms_messages` rows (their statuses: [`super::statuses`]).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// What the sender needs to know about a recipient user.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// JOSH's own opt-out record.
    pub opted_out_at: Option<OffsetDateTime>,
    /// The region's IANA timezone (`rules->>'timezone'`).
    pub timezone: Option<String>,
}

/// The user `id`, if the row exists.
///
/// # Errors
/// When the query fails.
pub async fn recipient(tx: &mut PgConnection, id: Uuid) -> Result<Option<Recipient>, sqlx::Error> {
    let row = sqlx::query!(
        "select u.opted_out_at, r.rules ->> 'timezone' as timezone
           from users u left join regions r on r.id = u.region_id
          where u.id = $1",
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Recipient {
        opted_out_at: r.opted_out_at,
        timezone: r.timezone,
    }))
}

/// An active suppression.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// `opted_out`, `carrier_opted_out` or `unusable`.
    pub reason: String,
    /// Since when.
    pub suppressed_at: OffsetDateTime,
    /// The Twilio error behind it, e.g. `30006`.
    pub error_code: Option<String>,
}

/// The active suppression of `phone_hash`, if any.
///
/// # Errors
/// When the query fails.
pub async fn suppression(
    tx: &mut PgConnection,
    phone_hash: &str,
) -> Result<Option<Suppression>, sqlx::Error> {
    let row = sqlx::query!(
        "select reason, suppressed_at, error_code from sms_suppressions
          where phone_hash = $1 and lifted_at is null",
        phone_hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Suppression {
        reason: r.reason,
        suppressed_at: r.suppressed_at,
        error_code: r.error_code,
    }))
}

/// What a send command's intake reads about its addressee, in one statement: the user `user_id`
/// (when given and the row exists) and the active suppression of `phone_hash`.
///
/// # Errors
/// When the query fails.
#[tracing::instrument(skip_all)]
pub async fn addressee(
    tx: &mut PgConnection,
    user_id: Option<Uuid>,
    phone_hash: &str,
) -> Result<(Option<Recipient>, Option<Suppression>), sqlx::Error> {
    let row = sqlx::query!(
        r#"select u.id is not null as "user_found!", u.opted_out_at as "opted_out_at?",
                  r.rules ->> 'timezone' as "timezone?",
                  s.reason as "reason?", s.suppressed_at as "suppressed_at?",
                  s.error_code as "error_code?"
             from (values (1)) as one (x)
             left join users u on u.id = $1
             left join regions r on r.id = u.region_id
             left join sms_suppressions s on s.phone_hash = $2 and s.lifted_at is null"#,
        user_id,
        phone_hash
    )
    .fetch_one(&mut *tx)
    .await?;
    let recipient = row.user_found.then_some(Recipient {
        opted_out_at: row.opted_out_at,
        timezone: row.timezone,
    });
    let suppression = match (row.reason, row.suppressed_at) {
        (Some(reason), Some(suppressed_at)) => Some(Suppression {
            reason,
            suppressed_at,
            error_code: row.error_code,
        }),
        _ => None,
    };
    Ok((recipient, suppression))
}

/// Suppresses `phone_hash` for `reason` (reactivating a lifted entry); true when it was not
/// suppressed before.
///
/// # Errors
/// When the upsert fails.
pub async fn suppress(
    tx: &mut PgConnection,
    phone_hash: &str,
    user_id: Option<Uuid>,
    reason: &str,
    error_code: Option<i32>,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "insert into sms_suppressions (phone_hash, user_id, reason, error_code, suppressed_at)
         values ($1, $2, $3, $4, $5)
         on conflict (phone_hash) do update
            set user_id = coalesce(excluded.user_id, sms_suppressions.user_id),
                reason = excluded.reason, error_code = excluded.error_code,
                suppressed_at = excluded.suppressed_at, lifted_at = null
          where sms_suppressions.lifted_at is not null",
        phone_hash,
        user_id,
        reason,
        error_code.map(|c| c.to_string()),
        at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Lifts the opt-out suppressions of `phone_hash` (a number marked unusable stays); true when
/// one was lifted.
///
/// # Errors
/// When the update fails.
pub async fn lift_opt_out(
    tx: &mut PgConnection,
    phone_hash: &str,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let lifted = sqlx::query!(
        "update sms_suppressions set lifted_at = $2
          where phone_hash = $1 and lifted_at is null
            and reason in ('opted_out', 'carrier_opted_out')",
        phone_hash,
        at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(lifted > 0)
}

/// The sender that stops every sender (the kill switch) while paused.
pub const ALL_SENDERS: &str = "*";

/// Whether `sender` is paused, by its own pause or the kill switch ([`ALL_SENDERS`]).
///
/// # Errors
/// When the query fails.
pub async fn is_paused(tx: &mut PgConnection, sender: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from sms_sender_pauses
                           where sender in ($1, '*') and resumed_at is null) as "paused!""#,
        sender
    )
    .fetch_one(&mut *tx)
    .await
}

/// Pauses `sender` (again, if it was resumed); true when it was not paused before.
///
/// # Errors
/// When the upsert fails.
pub async fn pause(
    tx: &mut PgConnection,
    sender: &str,
    reason: &str,
    error_code: i32,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query!(
        "insert into sms_sender_pauses (sender, paused_at, reason, error_code)
         values ($1, $2, $3, $4)
         on conflict (sender) do update
            set paused_at = excluded.paused_at, reason = excluded.reason,
                error_code = excluded.error_code, resumed_at = null
          where sms_sender_pauses.resumed_at is not null",
        sender,
        at,
        reason,
        error_code
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(changed == 1)
}
