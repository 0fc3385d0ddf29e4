//! Replies go out as `outbound.send_sms` commands through the outbox, in the same transaction as
//! the state change that caused them. A reply's idempotency key is derived from the inbound
//! message and its position, so a redelivered inbound message never produces a second reply.

use crypto::Keyring;
use proto::v1::{SendSms, SmsPurpose};
use proto::{EncryptedBody, Envelope};
use sqlx::PgConnection;

use crate::SERVICE;
use crate::error::RouterError;

/// One text to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// What to say (plaintext only in memory; encrypted before it leaves the process).
    pub text: String,
    /// Why, for the sender's suppression and quiet-hours rules.
    pub purpose: SmsPurpose,
    /// Sent even in quiet hours (opt-out confirmation, safety, help).
    pub urgent: bool,
}

impl Reply {
    /// An ordinary reply in the conversation. It answers a text the person just sent, so it goes
    /// now even in their quiet hours: quiet hours hold back only what JOSH starts on its own
    /// (invites, reminders, nudges).
    pub fn say(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            purpose: SmsPurpose::Reply,
            urgent: true,
        }
    }

    /// A reply with an explicit purpose; urgent purposes skip quiet hours.
    pub fn with_purpose(text: impl Into<String>, purpose: SmsPurpose) -> Self {
        let urgent = matches!(
            purpose,
            SmsPurpose::OptOutConfirmation
                | SmsPurpose::Help
                | SmsPurpose::Safety
                | SmsPurpose::Otp
        );
        Self {
            text: text.into(),
            purpose,
            urgent,
        }
    }
}

/// Where replies to one inbound message go.
#[derive(Debug, Clone)]
pub struct Recipient<'a> {
    /// The user, if registered.
    pub user_id: Option<uuid::Uuid>,
    /// E.164 number.
    pub phone_e164: &'a str,
    /// Keyed hash of the number (the partition key, so replies keep their order).
    pub phone_hash: &'a str,
}

/// Where a text comes from, for tracing across services: the envelope that caused it, or a
/// job run (its own correlation id).
#[derive(Debug, Clone)]
pub struct Origin {
    /// Carried from the cause to the reply.
    pub correlation_id: String,
    /// The event that directly caused the text; empty for a job.
    pub causation_id: String,
    /// When the cause happened.
    pub occurred_at: Option<prost_types::Timestamp>,
}

impl Origin {
    /// Caused by `envelope`.
    pub fn of(envelope: &Envelope) -> Self {
        Self {
            correlation_id: envelope.correlation_id.clone(),
            causation_id: envelope.event_id.clone(),
            occurred_at: envelope.occurred_at,
        }
    }

    /// Started by a job run at `now`.
    pub fn job(now: time::OffsetDateTime) -> Self {
        Self {
            correlation_id: uuid::Uuid::now_v7().to_string(),
            causation_id: String::new(),
            occurred_at: Some(proto::timestamp::to_timestamp(now)),
        }
    }
}

/// Enqueues `replies` to `to` as send-SMS commands caused by `inbound`. `opt_out_clear`: this
/// transaction read `to` as not opted out and nothing changed it since (the pipeline says so),
/// so the replies skip [`send`]'s own look.
///
/// # Errors
/// [`RouterError`] when encryption or the outbox insert fails.
pub async fn enqueue(
    tx: &mut PgConnection,
    keyring: &Keyring,
    inbound: &Envelope,
    message_sid: &str,
    to: &Recipient<'_>,
    replies: &[Reply],
    opt_out_clear: bool,
) -> Result<(), RouterError> {
    let origin = Origin::of(inbound);
    for (index, reply) in replies.iter().enumerate() {
        let key = format!("reply:{message_sid}:{index}");
        if opt_out_clear {
            command(tx, keyring, &origin, to, reply, key).await?;
        } else {
            send(tx, keyring, &origin, to, reply, key).await?;
        }
    }
    Ok(())
}

/// Enqueues one text to `to` as a send-SMS command, once per `idempotency_key`.
///
/// # Errors
/// [`RouterError`] when encryption or the outbox insert fails.
pub async fn send(
    tx: &mut PgConnection,
    keyring: &Keyring,
    origin: &Origin,
    to: &Recipient<'_>,
    reply: &Reply,
    idempotency_key: String,
) -> Result<(), RouterError> {
    // Opt-out wins over everything but its confirmation and HELP, whoever asks for the text.
    let allowed_after_stop = matches!(
        reply.purpose,
        SmsPurpose::OptOutConfirmation | SmsPurpose::Help
    );
    if !allowed_after_stop && crate::store::optouts::is_opted_out(tx, to.phone_hash).await? {
        tracing::info!(purpose = ?reply.purpose, "text to an opted-out phone not sent");
        return Ok(());
    }
    command(tx, keyring, origin, to, reply, idempotency_key).await
}

/// Enqueues the send-SMS command for `reply` without looking at opt-outs (the caller did).
async fn command(
    tx: &mut PgConnection,
    keyring: &Keyring,
    origin: &Origin,
    to: &Recipient<'_>,
    reply: &Reply,
    idempotency_key: String,
) -> Result<(), RouterError> {
    let body = seal(keyring, &reply.text, &idempotency_key)?;
    let command = SendSms {
        user_id: to.user_id.map(|u| u.to_string()).unwrap_or_default(),
        to_e164: to.phone_e164.to_owned(),
        body: Some(body),
        purpose: reply.purpose.into(),
        urgent: reply.urgent,
        phone_hash: to.phone_hash.to_owned(),
        ..SendSms::default()
    };
    let envelope = Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        producer: SERVICE.to_owned(),
        occurred_at: origin.occurred_at,
        correlation_id: origin.correlation_id.clone(),
        causation_id: origin.causation_id.clone(),
        idempotency_key,
        partition_key: to.phone_hash.to_owned(),
        ..Envelope::for_payload(command)
    };
    bus::outbox::enqueue(tx, &envelope).await?;
    Ok(())
}

/// Encrypts `text` with the active key, bound to `associated_data`, as it travels on the bus.
///
/// # Errors
/// [`RouterError::Crypto`] when encryption fails.
pub fn seal(
    keyring: &Keyring,
    text: &str,
    associated_data: &str,
) -> Result<EncryptedBody, RouterError> {
    let sealed = keyring.encrypt(text.as_bytes(), associated_data.as_bytes())?;
    Ok(EncryptedBody::from(proto::BodyParts {
        key_version: sealed.key_version,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
        tag: sealed.tag,
    }))
}

/// Decrypts a body from the bus, bound to `associated_data`.
///
/// # Errors
/// [`RouterError::Crypto`] for an unknown key, tampering, wrong associated data or bad parts.
pub fn open(
    keyring: &Keyring,
    body: &EncryptedBody,
    associated_data: &str,
) -> Result<String, RouterError> {
    use crypto::ExposeSecret;
    let text = keyring.decrypt_to_string(
        &crypto::EncryptedBody::from_parts(
            body.key_version,
            &body.nonce,
            &body.ciphertext,
            &body.tag,
        )?,
        associated_data.as_bytes(),
    )?;
    Ok(text.expose_secret().to_owned())
}
