//! `sms_outbound_jobs`: created once per idempotency key, claimed under a lease, settled once.
//!
//! Statements find a job by id with `pending`, not `status = 'pending'`: a queue's statistics
//! nearly always say no job is pending, so for the plain comparison the planner preferred the
//! schema's `status` index to the primary key and read every pending job's entry (2,400 a call
//! in a backlog; docs/benchmarks.md, session 8). `pending` carries no statistics (migration
//! 20261206001600), which leaves the primary key. `store::plans` checks this in a backlog.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A job to insert.
#[derive(Debug)]
pub struct NewJob<'a> {
    /// Row id (chosen by the caller so events can name it).
    pub id: Uuid,
    /// The recipient user, if any (and still existing).
    pub user_id: Option<Uuid>,
    /// Recipient, E.164.
    pub to_e164: &'a str,
    /// Keyed hash of the recipient.
    pub phone_hash: &'a str,
    /// The body as it came, bound to `idempotency_key`.
    pub body: &'a crypto::EncryptedBody,
    /// Purpose, snake case (`reply`, `otp`, ...).
    pub purpose: &'a str,
    /// `pending` or `suppressed`.
    pub status: &'a str,
    /// Bypasses quiet hours.
    pub urgent: bool,
    /// Twilio ValidityPeriod.
    pub validity_seconds: Option<i32>,
    /// Segments of the body.
    pub segments: i32,
    /// Earliest send time.
    pub run_at: OffsetDateTime,
    /// Correlation id, when it is a UUID.
    pub correlation_id: Option<Uuid>,
    /// The command's idempotency key.
    pub idempotency_key: &'a str,
    /// Creation time (service clock).
    pub created_at: OffsetDateTime,
}

/// Inserts `job` unless a job with its idempotency key exists; true when inserted. A new
/// pending job is announced on [`crate::JOBS_CHANNEL`] (delivered at commit) by the same
/// statement, saving a round trip per text, unless the transaction switched NOTIFY off
/// (`bus::wake`): the send-command consumer wakes a worker itself after its commit.
///
/// # Errors
/// When the insert fails.
pub async fn insert(tx: &mut PgConnection, job: &NewJob<'_>) -> Result<bool, sqlx::Error> {
    let row = sqlx::query!(
        // The aggregate's FILTER is checked before its argument is evaluated: only a new
        // pending job is announced, and only by NOTIFY where the transaction did not opt out.
        r#"with job as (
             insert into sms_outbound_jobs
               (id, user_id, to_e164, phone_hash, key_version, body_iv, body_ciphertext,
                body_tag, purpose, status, urgent, validity_seconds, segments, run_at,
                correlation_id, idempotency_key, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             on conflict (idempotency_key) do nothing
             returning status)
           select count(*) = 1 as "inserted!",
                  count(pg_notify($18, '')) filter (
                    where status = 'pending'
                      and current_setting('josh.notify', true) is distinct from 'off'
                  ) as "announced!"
             from job"#,
        job.id,
        job.user_id,
        job.to_e164,
        job.phone_hash,
        job.body.key_version,
        job.body.nonce.as_slice(),
        job.body.ciphertext.as_slice(),
        job.body.tag.as_slice(),
        job.purpose,
        job.status,
        job.urgent,
        job.validity_seconds,
        job.segments,
        job.run_at,
        job.correlation_id,
        job.idempotency_key,
        job.created_at,
        crate::JOBS_CHANNEL,
    )
    .fetch_one(&mut *tx)
    .await?;
    tracing::trace!(announced = row.announced, "job inserted");
    Ok(row.inserted)
}

/// Opt-out confirmations to `phone_hash` that were not suppressed, created at or after `since`.
///
/// # Errors
/// When the query fails.
pub async fn confirmations_since(
    tx: &mut PgConnection,
    phone_hash: &str,
    since: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from sms_outbound_jobs
           where phone_hash = $1 and purpose = 'opt_out_confirmation'
             and status <> 'suppressed' and created_at >= $2"#,
        phone_hash,
        since
    )
    .fetch_one(&mut *tx)
    .await
}

/// Marks that `owner` starts sending the job now (outcome unknown until recorded) and renews
/// its lease; false when the lease was lost to another worker.
///
/// # Errors
/// When the update fails.
pub async fn mark_started(
    tx: &mut PgConnection,
    id: Uuid,
    owner: &str,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "update sms_outbound_jobs set send_started_at = $3, lease_until = $4
         where id = $1 and lease_owner = $2 and pending",
        id,
        owner,
        now,
        lease_until
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The message SID job `id` was recorded as sent with, if any.
///
/// # Errors
/// When the query fails.
pub async fn recorded_sid(tx: &mut PgConnection, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    let sid = sqlx::query_scalar!(
        "select twilio_message_sid from sms_outbound_jobs where id = $1",
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(sid.flatten())
}

/// Whether some job already recorded message `sid`.
///
/// # Errors
/// When the query fails.
pub async fn sid_taken(tx: &mut PgConnection, sid: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from sms_outbound_jobs where twilio_message_sid = $1) as "taken!""#,
        sid
    )
    .fetch_one(&mut *tx)
    .await
}

/// What a failed attempt leaves on the job.
#[derive(Debug, Clone, Copy)]
pub struct AttemptError<'a> {
    /// Short reason, never content.
    pub last_error: &'a str,
    /// Twilio error code, if any.
    pub error_code: Option<i32>,
}

/// Schedules another attempt at `run_at`. `still_in_doubt` keeps the started marker (the
/// attempt may have created a message, so the next one looks first). False when the job was
/// settled or re-leased meanwhile.
///
/// # Errors
/// When the update fails.
pub async fn mark_retry(
    tx: &mut PgConnection,
    id: Uuid,
    owner: &str,
    run_at: OffsetDateTime,
    error: AttemptError<'_>,
    still_in_doubt: bool,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "update sms_outbound_jobs
            set attempts = attempts + 1, run_at = $3, last_error = $4, error_code = $5,
                lease_until = null, lease_owner = null,
                send_started_at = case when $6 then send_started_at else null end
          where id = $1 and lease_owner = $2 and pending",
        id,
        owner,
        run_at,
        error.last_error,
        error.error_code,
        still_in_doubt
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Fails the job for good; false when it was settled already.
///
/// # Errors
/// When the update fails.
pub async fn mark_failed(
    tx: &mut PgConnection,
    id: Uuid,
    error: AttemptError<'_>,
) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query!(
        "update sms_outbound_jobs
            set status = 'failed', attempts = attempts + 1, last_error = $2, error_code = $3,
                lease_until = null, lease_owner = null, send_started_at = null
          where id = $1 and pending",
        id,
        error.last_error,
        error.error_code
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Hands the job back unchanged (pending, no attempt counted), e.g. when its sender is paused
/// or the worker stops.
///
/// # Errors
/// When the update fails.
pub async fn release(
    tx: &mut PgConnection,
    id: Uuid,
    owner: &str,
    error: Option<AttemptError<'_>>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update sms_outbound_jobs
            set lease_until = null, lease_owner = null, send_started_at = null,
                last_error = coalesce($3, last_error), error_code = coalesce($4, error_code)
          where id = $1 and lease_owner = $2 and pending",
        id,
        owner,
        error.map(|e| e.last_error),
        error.and_then(|e| e.error_code)
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Hands back every pending job leased by a worker whose name starts with `prefix` (one
/// instance's workers), keeping its started marker; how many there were.
///
/// # Errors
/// When the update fails.
pub async fn release_owned_by(conn: &mut PgConnection, prefix: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "update sms_outbound_jobs set lease_until = null, lease_owner = null
          where pending and starts_with(lease_owner, $1)",
        prefix
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Hands back every pending job leased to worker `owner`, keeping its started marker; how many
/// there were.
///
/// # Errors
/// When the update fails.
pub async fn release_leased_to(conn: &mut PgConnection, owner: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "update sms_outbound_jobs set lease_until = null, lease_owner = null
          where pending and lease_owner = $1",
        owner
    )
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Jobs waiting to be sent (the queue depth gauge).
///
/// # Errors
/// When the query fails.
pub async fn pending_count(tx: &mut PgConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from sms_outbound_jobs where status = 'pending'"#
    )
    .fetch_one(&mut *tx)
    .await
}
