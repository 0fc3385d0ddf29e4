//! Claiming: the next due job, leased to one worker. See [`super::jobs`] on why statements
//! find a job by `pending` and on the statistics they must not depend on.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Row id.
    pub id: Uuid,
    /// Recipient user.
    pub user_id: Option<Uuid>,
    /// Recipient, E.164.
    pub to_e164: String,
    /// Keyed hash of the recipient.
    pub phone_hash: Option<String>,
    /// The stored body; `None` once retention purged it (or when it is malformed).
    pub body: Option<crypto::EncryptedBody>,
    /// Purpose, snake case.
    pub purpose: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The command's idempotency key (the body's associated data).
    pub idempotency_key: String,
    /// Correlation id.
    pub correlation_id: Option<Uuid>,
    /// Segments of the body.
    pub segments: Option<i32>,
    /// Twilio ValidityPeriod.
    pub validity_seconds: Option<i32>,
    /// Set when an earlier attempt started and its outcome was never recorded.
    pub in_doubt_since: Option<OffsetDateTime>,
}

/// A job's body from its stored parts; `None` once retention purged them (or when they are
/// malformed).
pub(crate) fn stored_body(
    key_version: i32,
    iv: Option<Vec<u8>>,
    ciphertext: Option<Vec<u8>>,
    tag: Option<Vec<u8>>,
) -> Option<crypto::EncryptedBody> {
    match (iv, ciphertext, tag) {
        (Some(iv), Some(ct), Some(tag)) => {
            crypto::EncryptedBody::from_parts(key_version, &iv, &ct, &tag).ok()
        }
        _ => None,
    }
}

/// A leased job, and what else the claim saw pending: whether another worker may find a job
/// now, and whether this number has a later text (due once this one is sent).
#[derive(Debug)]
pub struct Claim {
    /// The job, leased.
    pub job: Job,
    /// Other numbers' jobs were due and not leased when it was claimed.
    pub others_due: bool,
    /// The same number has later pending jobs.
    pub number_has_more: bool,
    /// The job was due when it was queued and was queued within the last second: its insert's
    /// notification woke a worker, and so did every other such job's. A job that became due
    /// later (held, retried) or waited longer (a backlog, a lost notification) was not.
    pub announced: bool,
}

/// Leases the next due job to `owner` until `lease_until`, recording `sender`; `None` when no
/// job is due. Jobs leased by others are skipped until their lease runs out. Texts to one
/// number go out one at a time in the order they were queued (ids are UUIDv7): a job waits
/// while an earlier one to the same number is still pending, so a multi-text reply (the
/// onboarding opening, the explanation, the first question) arrives in order.
///
/// Nothing is claimed while `sender` is paused or the kill switch is on.
///
/// The claim also marks the send as started (`send_started_at`, kept when an earlier attempt
/// left it): a worker that dies after this commit leaves the job in doubt, so the next attempt
/// looks at Twilio first. This saves the separate "started" commit per text when the send
/// goes out at once ([`super::jobs::mark_started`] remains for sends that waited for the rate limit).
///
/// # Errors
/// When the query fails.
pub async fn claim_due(
    tx: &mut PgConnection,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
    owner: &str,
    sender: &str,
) -> Result<Option<Claim>, sqlx::Error> {
    let row = sqlx::query!(
        // Due jobs in due order (the due index), each kept only when it is its number's first
        // pending job (a probe of the number-order index), the first of those no other worker
        // holds. The walk stops at the first claimable job, so a claim reads a few index
        // entries however long the backlog (docs/benchmarks.md, sessions 7 and 8).
        // The shapes keep that plan whatever the statistics say (a queue's are nearly always
        // wrong): the probe is a scalar subquery with LIMIT, which is never flattened into a
        // join and is costed as an even bet (as a NOT EXISTS anti-join it could scan every
        // pending job per candidate; as `id = (...)` it looked so selective that a sort of all
        // pending jobs won over the walk); `others_due` is ordered like the due index, so a
        // scan from the table's start (through all the sent history) is never cheaper.
        r#"with due as (
           select j.id, j.send_started_at as in_doubt_since from sms_outbound_jobs j
            where j.pending and j.run_at <= $1
              and (j.lease_until is null or j.lease_until < $1)
              and (select e.id = j.id from sms_outbound_jobs e
                    where e.pending and e.to_e164 = j.to_e164
                    order by e.to_e164, e.run_at, e.created_at, e.id
                    limit 1)
              and not exists (
                select 1 from sms_sender_pauses p
                 where p.sender in ($4, '*') and p.resumed_at is null)
            order by j.run_at, j.created_at, j.id
            limit 1
            for update skip locked)
         update sms_outbound_jobs j
            set lease_until = $2, lease_owner = $3, sender = $4,
                send_started_at = coalesce(j.send_started_at, $1)
           from due
          where j.id = due.id
         returning j.id, j.user_id, j.to_e164, j.phone_hash, j.key_version, j.body_iv,
                   j.body_ciphertext, j.body_tag, j.purpose, j.attempts, j.idempotency_key,
                   j.correlation_id, j.segments, j.validity_seconds,
                   due.in_doubt_since as "in_doubt_since?",
                   (select true from sms_outbound_jobs o
                     where o.pending and o.run_at <= $1 and o.to_e164 <> j.to_e164
                       and (o.lease_until is null or o.lease_until < $1)
                     order by o.run_at, o.created_at, o.id
                     limit 1) is not null
                     as "others_due!",
                   exists (select 1 from sms_outbound_jobs n
                            where n.pending and n.to_e164 = j.to_e164 and n.id <> j.id)
                     as "number_has_more!",
                   (j.run_at <= j.created_at and j.created_at > $1 - interval '1 second')
                     as "announced!""#,
        now,
        lease_until,
        owner,
        sender
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Claim {
        others_due: r.others_due,
        number_has_more: r.number_has_more,
        announced: r.announced,
        job: Job {
            id: r.id,
            user_id: r.user_id,
            to_e164: r.to_e164,
            phone_hash: r.phone_hash,
            body: stored_body(r.key_version, r.body_iv, r.body_ciphertext, r.body_tag),
            purpose: r.purpose,
            attempts: r.attempts,
            idempotency_key: r.idempotency_key,
            correlation_id: r.correlation_id,
            segments: r.segments,
            validity_seconds: r.validity_seconds,
            in_doubt_since: r.in_doubt_since,
        },
    }))
}
