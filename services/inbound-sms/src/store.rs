//! inbound-sms's SQL: small functions that each run in the caller's transaction (the handler
//! owns begin and commit). The service's role may write only `direction = 'in'` rows of
//! `sms_messages`, its own `message_events`, and its own outbox rows; it reads `users`.

pub mod admin;

use std::collections::HashMap;
use std::fmt;

use sqlx::PgConnection;
use twilio::webhook::MaskedPhone;
use uuid::Uuid;

/// An inbound message as stored: metadata in clear, the body only as AES-GCM parts. `Debug`
/// masks the phone numbers.
pub struct NewInbound<'a> {
    /// Twilio `MessageSid` (unique; what claims the message).
    pub message_sid: &'a str,
    /// Sender, E.164.
    pub from_e164: &'a str,
    /// JOSH's number that received it.
    pub to_e164: &'a str,
    /// Keyed hash of the sender, to find the user.
    pub phone_hash: &'a str,
    /// The encrypted body (associated data: the `MessageSid` bytes).
    pub body: &'a crypto::EncryptedBody,
    /// `NumMedia`.
    pub media_count: i32,
    /// The id carried through every event this message causes.
    pub correlation_id: Uuid,
    /// The audit row's payload (ids and counts only); the row's id is added as
    /// `sms_message_id`.
    pub audit: &'a serde_json::Value,
}

impl fmt::Debug for NewInbound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewInbound")
            .field("message_sid", &self.message_sid)
            .field("from_e164", &MaskedPhone(self.from_e164))
            .field("to_e164", &MaskedPhone(self.to_e164))
            .field("phone_hash", &self.phone_hash)
            .field("key_version", &self.body.key_version)
            .field("media_count", &self.media_count)
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

/// The row a new message was stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    /// `sms_messages.id`.
    pub id: Uuid,
    /// The sender's user, when the phone hash is known.
    pub user_id: Option<Uuid>,
}

/// Stores each of `messages` (distinct SIDs) with its `sms.received` audit row unless its
/// `MessageSid` is already stored, in one statement (the claims, the user lookups and the audit
/// rows). Returns the new rows by SID; a SID missing from the answer was a duplicate (a retried
/// or concurrent delivery), which changes nothing. Concurrent deliveries of one SID serialize on
/// the unique index: the first inserts, the others wait for its commit and then find the
/// conflict; rows are inserted in SID order, so two groups never wait on each other in a cycle.
#[tracing::instrument(skip_all, fields(messages = messages.len()))]
pub async fn claim_inbound<'a>(
    tx: &mut PgConnection,
    messages: &[NewInbound<'a>],
) -> Result<HashMap<String, Claimed>, sqlx::Error> {
    let text = |f: fn(&NewInbound<'a>) -> &'a str| messages.iter().map(f).collect::<Vec<_>>();
    let bytes = |f: fn(&NewInbound<'a>) -> &'a [u8]| messages.iter().map(f).collect::<Vec<_>>();
    let numbers = |f: fn(&NewInbound<'_>) -> i32| messages.iter().map(f).collect::<Vec<_>>();
    let correlations: Vec<Uuid> = messages.iter().map(|m| m.correlation_id).collect();
    let audits: Vec<&serde_json::Value> = messages.iter().map(|m| m.audit).collect();
    let rows = sqlx::query!(
        r#"with input as (
             select * from unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bytea[],
                                  $6::bytea[], $7::int[], $8::int[], $9::uuid[], $10::text[],
                                  $11::jsonb[])
               as i(from_e164, to_e164, sid, ciphertext, iv, tag, key_version, media_count,
                    correlation_id, phone_hash, audit)
           ), claimed as (
             insert into sms_messages
               (direction, from_e164, to_e164, twilio_message_sid, body_ciphertext, body_iv, body_tag,
                key_version, media_count, status, last_status_at, correlation_id, user_id)
             select 'in', i.from_e164, i.to_e164, i.sid, i.ciphertext, i.iv, i.tag, i.key_version,
                    i.media_count, 'received', now(), i.correlation_id,
                    (select u.id from users u where u.phone_hash = i.phone_hash)
               from input i
              order by i.sid
             on conflict (twilio_message_sid) do nothing
             returning id, user_id, correlation_id, twilio_message_sid
           ), audit as (
             insert into message_events (user_id, event_type, payload, correlation_id)
             select c.user_id, 'sms.received', i.audit || jsonb_build_object('sms_message_id', c.id),
                    c.correlation_id
               from claimed c join input i on i.sid = c.twilio_message_sid
           )
           select twilio_message_sid as "sid!", id as "id!", user_id from claimed"#,
        &text(|m| m.from_e164) as &[&str],
        &text(|m| m.to_e164) as &[&str],
        &text(|m| m.message_sid) as &[&str],
        &bytes(|m| m.body.ciphertext.as_slice()) as &[&[u8]],
        &bytes(|m| m.body.nonce.as_slice()) as &[&[u8]],
        &bytes(|m| m.body.tag.as_slice()) as &[&[u8]],
        &numbers(|m| m.body.key_version),
        &numbers(|m| m.media_count),
        &correlations,
        &text(|m| m.phone_hash) as &[&str],
        &audits as &[&serde_json::Value],
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let claimed = Claimed {
                id: r.id,
                user_id: r.user_id,
            };
            (r.sid, claimed)
        })
        .collect())
}

/// The audit row of a status callback in `message_events` (`sms.status_reported`). The payload
/// holds ids and the status only: never a body or a phone number.
#[derive(Debug)]
pub struct StatusAudit<'a> {
    /// The row's id, derived from (SID, status): a second row for the pair is never stored.
    pub id: Uuid,
    /// The phone hash of the recipient, when known: the row names the user who has that number
    /// (looked up in the insert itself).
    pub phone_hash: Option<&'a str>,
    /// Ids and the status.
    pub payload: &'a serde_json::Value,
    /// The callback's correlation id.
    pub correlation_id: Uuid,
}

/// Appends the audit rows of status callbacks, in one statement, skipping any whose id is
/// stored already. Returns, in order, whether each was stored now (of several with one id in
/// `audits`, the first).
#[tracing::instrument(skip_all, fields(rows = audits.len()))]
pub async fn insert_status_audits(
    tx: &mut PgConnection,
    audits: &[StatusAudit<'_>],
) -> Result<Vec<bool>, sqlx::Error> {
    if audits.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = audits.iter().map(|a| a.id).collect();
    let hashes: Vec<Option<&str>> = audits.iter().map(|a| a.phone_hash).collect();
    let payloads: Vec<&serde_json::Value> = audits.iter().map(|a| a.payload).collect();
    let correlations: Vec<Uuid> = audits.iter().map(|a| a.correlation_id).collect();
    let stored = sqlx::query_scalar!(
        "insert into message_events (id, user_id, event_type, payload, correlation_id)
         select a.id, (select u.id from users u where u.phone_hash = a.phone_hash),
                'sms.status_reported', a.payload, a.correlation_id
           from unnest($1::uuid[], $2::text[], $3::jsonb[], $4::uuid[])
                as a(id, phone_hash, payload, correlation_id)
         on conflict (id) do nothing
         returning id",
        &ids,
        &hashes as &[Option<&str>],
        &payloads as &[&serde_json::Value],
        &correlations,
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut stored: std::collections::HashSet<Uuid> = stored.into_iter().collect();
    Ok(ids.iter().map(|id| stored.remove(id)).collect())
}

/// The numbers `user_id` texted JOSH from (still in clear).
///
/// # Errors
/// When the query fails.
#[tracing::instrument(skip_all)]
pub async fn inbound_numbers_of(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "select distinct from_e164 from sms_messages
          where direction = 'in' and user_id = $1 and from_e164 <> $2",
        user_id,
        SCRUBBED
    )
    .fetch_all(&mut *tx)
    .await
}

/// What a scrubbed row holds instead of the person's number.
pub const SCRUBBED: &str = "deleted";

/// Nulls the body and replaces the sender number of every inbound text of `user_id` or from
/// `numbers` (texts sent before the number became a user have no `user_id`). Metadata stays.
///
/// # Errors
/// When the update fails.
#[tracing::instrument(skip_all)]
pub async fn scrub_inbound(
    tx: &mut PgConnection,
    user_id: Uuid,
    numbers: &[String],
) -> Result<u64, sqlx::Error> {
    let scrubbed = sqlx::query!(
        "update sms_messages
            set body_ciphertext = null, body_iv = null, body_tag = null, from_e164 = $3
          where direction = 'in' and (user_id = $1 or from_e164 = any($2))
            and (from_e164 <> $3 or body_ciphertext is not null)",
        user_id,
        numbers,
        SCRUBBED
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(scrubbed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_phone_numbers() {
        let ring =
            crypto::Keyring::from_config("1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "1")
                .unwrap();
        let body = ring.encrypt_str("hello there", b"SM1").unwrap();
        let row = NewInbound {
            message_sid: "SM1",
            from_e164: "+14155550100",
            to_e164: "+15558675310",
            phone_hash: "abc",
            body: &body,
            media_count: 0,
            correlation_id: Uuid::nil(),
            audit: &serde_json::Value::Null,
        };
        let text = format!("{row:?}");
        assert!(
            !text.contains("4155550100") && !text.contains("5558675310"),
            "{text}"
        );
        assert!(text.contains("+1********00"), "{text}");
    }
}
