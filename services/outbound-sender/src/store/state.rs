//! What the sender reads and keeps besides jobs: recipients (users, regions), the suppression
//! list, paused senders and the outbound `sms_messages` rows.

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

/// An outbound message row to insert.
#[derive(Debug)]
pub struct NewMessage<'a> {
    /// The job's user.
    pub user_id: Option<Uuid>,
    /// Sender number (or Messaging Service SID until Twilio names the number).
    pub from: &'a str,
    /// Recipient.
    pub to: &'a str,
    /// Twilio SID.
    pub sid: &'a str,
    /// The body encrypted with the SID as associated data.
    pub body: &'a crypto::EncryptedBody,
    /// Status from the create response.
    pub status: &'a str,
    /// Segments.
    pub num_segments: i32,
    /// Correlation id.
    pub correlation_id: Option<Uuid>,
    /// Service clock.
    pub at: OffsetDateTime,
}

/// Stores the outbound message once per SID.
///
/// # Errors
/// When the insert fails.
pub async fn insert_message(tx: &mut PgConnection, m: &NewMessage<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into sms_messages
           (user_id, direction, from_e164, to_e164, twilio_message_sid, key_version, body_iv,
            body_ciphertext, body_tag, status, last_status_at, num_segments, correlation_id,
            created_at)
         values ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $10)
         on conflict (twilio_message_sid) do nothing",
        m.user_id,
        m.from,
        m.to,
        m.sid,
        m.body.key_version,
        m.body.nonce.as_slice(),
        m.body.ciphertext.as_slice(),
        m.body.tag.as_slice(),
        m.status,
        m.at,
        m.num_segments,
        m.correlation_id,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An outbound message and its job, as a status update acts on them.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The user.
    pub user_id: Option<Uuid>,
    /// The job's phone hash.
    pub phone_hash: Option<String>,
    /// The sender the job used (else the message's from).
    pub sender: String,
}

/// The outbound message `sid` with its job, locked; `None` when unknown.
///
/// # Errors
/// When the query fails.
pub async fn lock_sent(tx: &mut PgConnection, sid: &str) -> Result<Option<Sent>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select m.user_id, m.from_e164, j.phone_hash as "phone_hash?",
                  j.sender as "sender?"
             from sms_messages m
             left join sms_outbound_jobs j on j.twilio_message_sid = m.twilio_message_sid
            where m.twilio_message_sid = $1 and m.direction = 'out'
            for update of m"#,
        sid
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Sent {
        user_id: r.user_id,
        phone_hash: r.phone_hash,
        sender: r.sender.unwrap_or(r.from_e164),
    }))
}

/// Moves the outbound message `sid` and its job to `status` in one statement, but only from a
/// status in `from` (the ones `status` is forward of), no status yet, or a status not in
/// `known`. Returns the message and its job, or `None` when nothing moved: the SID is unknown
/// or the stored status is not behind `status` ([`lock_sent`] tells the two apart). A
/// concurrent update of the same message makes this wait and then re-checks the condition
/// against the status it committed, so statuses only move forward.
///
/// # Errors
/// When the update fails.
#[tracing::instrument(skip_all, fields(sid, status))]
pub async fn advance_status(
    tx: &mut PgConnection,
    sid: &str,
    status: &str,
    from: &[&str],
    known: &[&str],
    error_code: Option<i32>,
    at: OffsetDateTime,
) -> Result<Option<Sent>, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
    let known: Vec<String> = known.iter().map(|s| (*s).to_owned()).collect();
    let row = sqlx::query!(
        r#"with m as (
             update sms_messages set status = $2, last_status_at = $3,
                    error_code = coalesce($4, error_code)
              where twilio_message_sid = $1 and direction = 'out'
                and (status is null or status = any($5) or status <> all($6))
             returning twilio_message_sid, user_id, from_e164
           ), j as (
             update sms_outbound_jobs set delivery_status = $2,
                    error_code = coalesce($4, error_code)
              where twilio_message_sid = (select twilio_message_sid from m)
             returning phone_hash, sender
           )
           select m.user_id, m.from_e164,
                  (select j.phone_hash from j limit 1) as "phone_hash?",
                  (select j.sender from j limit 1) as "sender?"
             from m"#,
        sid,
        status,
        at,
        error_code,
        &from,
        &known
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Sent {
        user_id: r.user_id,
        phone_hash: r.phone_hash,
        sender: r.sender.unwrap_or(r.from_e164),
    }))
}

/// Outbound messages without a final status (`unsettled`, what the reconciliation index
/// covers), created after `created_after`, whose status (or
/// last check) is older than `stale_before`; oldest first.
///
/// # Errors
/// When the query fails.
pub async fn unsettled(
    tx: &mut PgConnection,
    created_after: OffsetDateTime,
    stale_before: OffsetDateTime,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select twilio_message_sid from sms_messages
          where unsettled
            and created_at > $1
            and coalesce(reconciled_at, last_status_at, created_at) < $2
          order by created_at
          limit $3",
        created_after,
        stale_before,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}

/// Records that reconciliation asked about `sid` at `at`.
///
/// # Errors
/// When the update fails.
pub async fn mark_reconciled(
    tx: &mut PgConnection,
    sid: &str,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update sms_messages set reconciled_at = $2
          where twilio_message_sid = $1 and direction = 'out'",
        sid,
        at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
