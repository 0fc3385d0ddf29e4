//! A send's record: the job marked sent, its message stored and `sms.sent` in the outbox, in one
//! statement (so a send to a registrant is one round trip: no transaction around it).

use bus::outbox::OutboxRow;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

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

/// What [`record_sent`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The job moved to sent (false: it was settled already, and nothing was stored).
    pub recorded: bool,
    /// The message's user was deleted meanwhile: the caller scrubs in the same transaction.
    pub user_deleted: bool,
}

/// Records that Twilio accepted job `job_id` as message `m`: marks the job sent, stores the
/// message (once per SID) and `event` (its `sms.sent`) in the outbox, in one statement; nothing
/// is stored when the job was settled already. `notify` says, for the rest of the transaction,
/// who wakes the relay (`bus::wake`).
///
/// # Errors
/// When the statement fails.
#[tracing::instrument(skip_all, fields(job_id = %job_id, sid = m.sid))]
pub async fn record_sent(
    conn: &mut PgConnection,
    job_id: Uuid,
    m: &NewMessage<'_>,
    event: &OutboxRow,
    notify: bus::Notify,
) -> Result<Recorded, sqlx::Error> {
    let row = sqlx::query!(
        r#"with job as (
             update sms_outbound_jobs
                set status = 'sent', twilio_message_sid = $4, sent_at = $10,
                    attempts = attempts + 1, lease_until = null, lease_owner = null,
                    send_started_at = null, last_error = null, error_code = null
              where id = $13 and pending
             returning id
           ), message as (
             insert into sms_messages
               (user_id, direction, from_e164, to_e164, twilio_message_sid, key_version, body_iv,
                body_ciphertext, body_tag, status, last_status_at, num_segments, correlation_id,
                created_at)
             select $1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $10 from job
             on conflict (twilio_message_sid) do nothing
           ), event as (
             insert into event_outbox
               (producer, event_id, subject, event_type, idempotency_key, payload, headers)
             select $15, $16, $17, $18, $19, $20, $21 from job
             on conflict (producer, idempotency_key) do nothing
           )
           select exists (select 1 from job) as "recorded!",
                  coalesce((select u.deleted_at is not null from users u where u.id = $1), false)
                    as "user_deleted!",
                  set_config('josh.notify', $14, true) as "notify""#,
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
        job_id,
        notify.setting(),
        event.producer(),
        event.event_id(),
        event.subject(),
        event.event_type(),
        event.idempotency_key(),
        event.payload(),
        event.headers(),
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Recorded {
        recorded: row.recorded,
        user_deleted: row.user_deleted,
    })
}
