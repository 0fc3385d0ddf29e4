//! What the matcher emits, always in the caller's transaction: outbox events, `domain_events`
//! transitions and `outbound.send_sms` commands with encrypted bodies.

use proto::v1::{SendSms, SmsPurpose};
use proto::{EncryptedBody, Envelope, Payload};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::MatcherError;
use crate::{Context, SERVICE};

/// Why something happens: the envelope that caused it, or a timer of a LinkUp.
#[derive(Debug, Clone)]
pub struct Cause {
    /// Carried through every event and job.
    pub correlation_id: String,
    /// The causing event's id; empty for timers.
    pub causation_id: String,
    /// When it happens (the service clock).
    pub at: OffsetDateTime,
}

impl Cause {
    /// Caused by `envelope`, at `now`.
    pub fn of(envelope: &Envelope, now: OffsetDateTime) -> Self {
        Self {
            correlation_id: envelope.correlation_id.clone(),
            causation_id: envelope.event_id.clone(),
            at: now,
        }
    }

    /// Caused by a timer of a LinkUp with this correlation id.
    pub fn timer(correlation_id: Option<Uuid>, now: OffsetDateTime) -> Self {
        Self {
            correlation_id: correlation_id.map(|c| c.to_string()).unwrap_or_default(),
            causation_id: String::new(),
            at: now,
        }
    }

    /// The correlation id as a UUID, when it is one.
    pub fn correlation_uuid(&self) -> Option<Uuid> {
        Uuid::parse_str(&self.correlation_id).ok()
    }
}

/// Enqueues `payload` once per `idempotency_key`.
///
/// # Errors
/// [`MatcherError::Bus`] when the outbox refuses it.
pub async fn publish(
    tx: &mut PgConnection,
    cause: &Cause,
    payload: impl Into<Payload>,
    idempotency_key: String,
    partition_key: String,
) -> Result<(), MatcherError> {
    let envelope = Envelope {
        event_id: Uuid::now_v7().to_string(),
        producer: SERVICE.to_owned(),
        occurred_at: Some(proto::timestamp::to_timestamp(cause.at)),
        correlation_id: cause.correlation_id.clone(),
        causation_id: cause.causation_id.clone(),
        idempotency_key,
        partition_key,
        ..Envelope::for_payload(payload)
    };
    bus::outbox::enqueue(tx, &envelope).await?;
    Ok(())
}

/// One state change of an entity, for `domain_events`.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// `linkup`, `linkup_invite`, ...
    pub entity_type: &'a str,
    /// Its id.
    pub entity_id: Uuid,
    /// e.g. `linkup.locked`.
    pub event_type: &'a str,
    /// State before, if any.
    pub from: Option<&'a str>,
    /// State after, if any.
    pub to: Option<&'a str>,
}

/// Appends `t` to `domain_events` (once per idempotency key, derived from the entity and event)
/// and counts it in `linkup_matcher_transitions_total{event_type}` (LinkUps created, locked,
/// expired, canceled, completed; invites sent, replied, closed; contacts exchanged). The count is
/// taken inside the transaction, so a rolled-back attempt that is retried counts twice.
///
/// # Errors
/// [`MatcherError::Database`] when the insert fails.
#[tracing::instrument(skip_all, fields(entity_type = t.entity_type, event_type = t.event_type))]
pub async fn record(
    tx: &mut PgConnection,
    cause: &Cause,
    t: Transition<'_>,
) -> Result<(), MatcherError> {
    let key = format!("{}:{}:{}", t.event_type, t.entity_id, t.to.unwrap_or("-"));
    sqlx::query!(
        "insert into domain_events (entity_type, entity_id, event_type, from_state, to_state,
                                    idempotency_key, correlation_id, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
        t.entity_type,
        t.entity_id,
        t.event_type,
        t.from,
        t.to,
        key,
        cause.correlation_uuid(),
        cause.at
    )
    .execute(&mut *tx)
    .await?;
    metrics::counter!("linkup_matcher_transitions_total", "event_type" => t.event_type.to_owned())
        .increment(1);
    Ok(())
}

/// Who a text goes to.
#[derive(Debug, Clone)]
pub struct Contact {
    /// users.id.
    pub user_id: Uuid,
    /// First name.
    pub first_name: String,
    /// E.164 number.
    pub phone_e164: String,
    /// Keyed hash of the number (the partition key).
    pub phone_hash: String,
}

/// A text the matcher sends.
#[derive(Debug, Clone)]
pub struct Text<'a> {
    /// To whom.
    pub to: &'a Contact,
    /// What (plaintext only in memory).
    pub body: String,
    /// Why.
    pub purpose: SmsPurpose,
    /// Derived from its cause, so a retried use case sends nothing twice.
    pub idempotency_key: String,
    /// The LinkUp it is about.
    pub linkup_id: Uuid,
    /// Twilio validity for time-boxed texts (invites), 0 = none.
    pub validity_seconds: u32,
    /// The recipient's region timezone, for quiet hours.
    pub timezone: &'a str,
}

/// Enqueues `text` as an `outbound.send_sms` command. Non-urgent: quiet hours apply.
///
/// # Errors
/// [`MatcherError`] when encryption or the outbox insert fails.
pub async fn send(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    text: Text<'_>,
) -> Result<(), MatcherError> {
    let body = seal(&ctx.keyring, &text.body, &text.idempotency_key)?;
    let command = SendSms {
        user_id: text.to.user_id.to_string(),
        to_e164: text.to.phone_e164.clone(),
        body: Some(body),
        purpose: text.purpose.into(),
        urgent: false,
        validity_seconds: text.validity_seconds,
        region_timezone: text.timezone.to_owned(),
        phone_hash: text.to.phone_hash.clone(),
        linkup_id: text.linkup_id.to_string(),
        ..SendSms::default()
    };
    let partition = text.to.phone_hash.clone();
    publish(tx, cause, command, text.idempotency_key, partition).await
}

/// Encrypts `text` with the active key, bound to `associated_data`.
///
/// # Errors
/// [`MatcherError::Crypto`] when encryption fails.
pub fn seal(
    keyring: &crypto::Keyring,
    text: &str,
    associated_data: &str,
) -> Result<EncryptedBody, MatcherError> {
    let sealed = keyring.encrypt(text.as_bytes(), associated_data.as_bytes())?;
    Ok(EncryptedBody::from(proto::BodyParts {
        key_version: sealed.key_version,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
        tag: sealed.tag,
    }))
}

/// One text to several people about a LinkUp.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    /// The LinkUp.
    pub linkup_id: Uuid,
    /// Its region's timezone (quiet hours).
    pub timezone: &'a str,
    /// Why.
    pub purpose: SmsPurpose,
    /// Names the notice in each text's idempotency key, with the LinkUp and the recipient:
    /// the same notice reaches each person at most once.
    pub key: &'a str,
}

/// Texts `body` to each of `users` (unknown users skipped).
///
/// # Errors
/// [`MatcherError`] when a read, encryption or the outbox insert fails.
pub async fn tell(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    notice: Notice<'_>,
    users: &[Uuid],
    body: &str,
) -> Result<(), MatcherError> {
    for contact in crate::store::people::contacts(tx, users).await? {
        let text = Text {
            to: &contact,
            body: body.to_owned(),
            purpose: notice.purpose,
            idempotency_key: format!(
                "{}-sms:{}:{}",
                notice.key, notice.linkup_id, contact.user_id
            ),
            linkup_id: notice.linkup_id,
            validity_seconds: 0,
            timezone: notice.timezone,
        };
        send(tx, ctx, cause, text).await?;
    }
    Ok(())
}
