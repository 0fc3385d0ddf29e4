//! Delivery statuses of outbound `sms_messages` rows and their jobs: forward-only updates, one
//! at a time or a consumer batch's in one statement, and what reconciliation asks about.
//!
//! A job's `delivery_status` copies its message's status only once that is final (delivered,
//! undelivered, failed, then read): what resending and ops look at. The intermediate statuses
//! (queued, sent) stay on the message alone, which spares two of a text's three job updates;
//! views read the message's status where they show one.

use sqlx::PgConnection;
use time::OffsetDateTime;
use twilio::status::MessageStatus;
use uuid::Uuid;

/// The statuses a job's `delivery_status` takes: the final ones.
fn final_statuses() -> Vec<String> {
    MessageStatus::ALL
        .iter()
        .filter(|(status, _)| status.is_final())
        .map(|(_, name)| (*name).to_owned())
        .collect()
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

/// Moves the outbound message `sid` (and, when `status` is final, its job) to `status` in one
/// statement, but only from a status in `from` (the ones `status` is forward of), no status
/// yet, or a status not in `known`. Returns the message and its job, or `None` when nothing moved: the SID is unknown
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
             update sms_outbound_jobs
                set delivery_status = case when $2 = any($7) then $2 else delivery_status end,
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
        &known,
        &final_statuses(),
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

/// One message's move in [`advance_statuses`].
#[derive(Debug, Clone)]
pub struct StatusMove<'a> {
    /// The message's SID.
    pub sid: &'a str,
    /// The status to move to.
    pub status: &'a str,
    /// The statuses it moves from (those it is forward of).
    pub from: Vec<&'a str>,
}

/// Moves each message of `moves` (distinct SIDs, no carrier error), and the job of each that
/// reaches a final status, to its status in one statement, under the rule of [`advance_status`]. Returns the SIDs that moved; the
/// others are stale or unknown ([`outbound_sids`] tells the two apart).
///
/// # Errors
/// When the update fails.
#[tracing::instrument(skip_all, fields(messages = moves.len()))]
pub async fn advance_statuses(
    tx: &mut PgConnection,
    moves: &[StatusMove<'_>],
    known: &[&str],
    at: OffsetDateTime,
) -> Result<Vec<String>, sqlx::Error> {
    let sids: Vec<String> = moves.iter().map(|m| m.sid.to_owned()).collect();
    let statuses: Vec<String> = moves.iter().map(|m| m.status.to_owned()).collect();
    // Arrays of arrays must be rectangular in Postgres: each list travels as one string.
    let from: Vec<String> = moves.iter().map(|m| m.from.join(",")).collect();
    let known: Vec<String> = known.iter().map(|s| (*s).to_owned()).collect();
    sqlx::query_scalar!(
        r#"with input as (
             select * from unnest($1::text[], $2::text[], $3::text[]) as i(sid, status, from_list)
           ), m as (
             update sms_messages s set status = i.status, last_status_at = $4
               from input i
              where s.twilio_message_sid = i.sid and s.direction = 'out'
                and (s.status is null or s.status = any(string_to_array(i.from_list, ','))
                     or s.status <> all($5))
             returning s.twilio_message_sid, s.status
           ), j as (
             update sms_outbound_jobs o set delivery_status = m.status
               from m
              where o.twilio_message_sid = m.twilio_message_sid and m.status = any($6)
           )
           select m.twilio_message_sid as "sid!" from m"#,
        &sids,
        &statuses,
        &from,
        at,
        &known,
        &final_statuses(),
    )
    .fetch_all(&mut *tx)
    .await
}

/// Which of `sids` name outbound messages.
///
/// # Errors
/// When the query fails.
#[tracing::instrument(skip_all, fields(messages = sids.len()))]
pub async fn outbound_sids(
    tx: &mut PgConnection,
    sids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select twilio_message_sid from sms_messages
          where twilio_message_sid = any($1) and direction = 'out'",
        sids
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
