//! The events outbound-sender publishes (through its outbox), built in one place.

use proto::v1::{
    NumberMarkedUnusable, SmsPurpose, SmsSendFailed, SmsSent, SmsStatus, SmsSuppressed,
    SuppressionReason,
};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::SERVICE;
use crate::error::SenderError;

/// Where an event comes from: its time, correlation and cause, and who it is about.
#[derive(Debug, Clone)]
pub struct Origin {
    /// When it happened (the service clock).
    pub at: OffsetDateTime,
    /// The correlation id carried from the command.
    pub correlation_id: String,
    /// The event id of the message that caused it, if any.
    pub causation_id: String,
    /// The user (or, without one, the phone hash): the partition key.
    pub partition_key: String,
}

/// Stores `payload` in the outbox under `idempotency_key`.
///
/// # Errors
/// [`SenderError::Bus`] when the outbox insert fails.
pub async fn publish(
    tx: &mut PgConnection,
    origin: &Origin,
    idempotency_key: String,
    payload: impl Into<Payload>,
) -> Result<(), SenderError> {
    bus::outbox::enqueue(tx, &envelope(origin, idempotency_key, payload)).await?;
    Ok(())
}

/// `payload` as an outbox row under `idempotency_key`, for a statement that stores it itself.
///
/// # Errors
/// [`SenderError::Bus`] when the envelope is malformed.
pub fn outbox_row(
    origin: &Origin,
    idempotency_key: String,
    payload: impl Into<Payload>,
) -> Result<bus::outbox::OutboxRow, SenderError> {
    Ok(bus::outbox::OutboxRow::prepare(&envelope(
        origin,
        idempotency_key,
        payload,
    ))?)
}

fn envelope(origin: &Origin, idempotency_key: String, payload: impl Into<Payload>) -> Envelope {
    Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        occurred_at: Some(proto::timestamp::to_timestamp(origin.at)),
        producer: SERVICE.to_owned(),
        correlation_id: origin.correlation_id.clone(),
        causation_id: origin.causation_id.clone(),
        idempotency_key,
        partition_key: origin.partition_key.clone(),
        ..Envelope::for_payload(payload)
    }
}

/// `sms.sent` for a job Twilio accepted.
pub fn sent(
    job_id: uuid::Uuid,
    sid: &str,
    segments: u32,
    user_id: &str,
    purpose: SmsPurpose,
    status: SmsStatus,
    at: OffsetDateTime,
) -> SmsSent {
    SmsSent {
        job_id: job_id.to_string(),
        message_sid: sid.to_owned(),
        segments,
        user_id: user_id.to_owned(),
        purpose: purpose.into(),
        initial_status: status.into(),
        sent_at: Some(proto::timestamp::to_timestamp(at)),
    }
}

/// What a final failure reports.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// Twilio error code, 0 when none.
    pub error_code: i32,
    /// HTTP status of the last attempt, 0 when none.
    pub http_status: u32,
    /// Attempts made.
    pub attempts: u32,
    /// Short machine-readable reason.
    pub reason: &'a str,
}

/// `sms.send_failed` for a job that failed for good.
pub fn send_failed(
    job_id: uuid::Uuid,
    user_id: &str,
    purpose: SmsPurpose,
    failure: Failure<'_>,
    at: OffsetDateTime,
) -> SmsSendFailed {
    SmsSendFailed {
        job_id: job_id.to_string(),
        user_id: user_id.to_owned(),
        purpose: purpose.into(),
        error_code: failure.error_code,
        http_status: failure.http_status,
        attempts: failure.attempts,
        reason: failure.reason.to_owned(),
        failed_at: Some(proto::timestamp::to_timestamp(at)),
    }
}

/// `sms.suppressed` for a job not sent because its number is suppressed.
pub fn suppressed(
    job_id: uuid::Uuid,
    phone_hash: &str,
    user_id: &str,
    reason: SuppressionReason,
    purpose: SmsPurpose,
    at: OffsetDateTime,
) -> SmsSuppressed {
    SmsSuppressed {
        job_id: job_id.to_string(),
        phone_hash: phone_hash.to_owned(),
        user_id: user_id.to_owned(),
        reason: reason.into(),
        error_code: 0,
        purpose: purpose.into(),
        suppressed_at: Some(proto::timestamp::to_timestamp(at)),
    }
}

/// `sms.number_marked_unusable` for a carrier error that suppressed a number.
pub fn number_unusable(
    phone_hash: &str,
    user_id: &str,
    error_code: i32,
    message_sid: &str,
    at: OffsetDateTime,
) -> NumberMarkedUnusable {
    NumberMarkedUnusable {
        phone_hash: phone_hash.to_owned(),
        user_id: user_id.to_owned(),
        reason: reason_for_code(error_code).into(),
        error_code,
        message_sid: message_sid.to_owned(),
        marked_at: Some(proto::timestamp::to_timestamp(at)),
    }
}

/// The suppression reason a Twilio error code stands for.
pub fn reason_for_code(code: i32) -> SuppressionReason {
    match code {
        21610 => SuppressionReason::CarrierOptOut21610,
        30005 => SuppressionReason::UnknownHandset30005,
        30006 => SuppressionReason::LandlineOrUnreachable30006,
        _ => SuppressionReason::Unspecified,
    }
}
