//! `outbound.send_sms`: one job per idempotency key, suppression first, quiet hours second.

use bus::{Handler, HandlerError};
use crypto::ExposeSecret as _;
use proto::v1::{SendSms, SmsPurpose, SuppressionReason};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::events::{self, Origin};
use crate::store::jobs::{self, NewJob};
use crate::store::state::{self, Recipient, Suppression};
use crate::{purpose, quiet};

/// Handles the send command inside the consumer's inbox transaction.
#[derive(Debug)]
pub struct SendSmsHandler {
    outbound: Outbound,
}

impl SendSmsHandler {
    /// A handler creating jobs for `outbound`.
    pub fn new(outbound: Outbound) -> Self {
        Self { outbound }
    }
}

impl Handler for SendSmsHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.outbound
            .accept(tx, envelope)
            .await
            .map_err(into_handler_error)
    }

    /// The consumer's transactions announce no job by NOTIFY (`bus::wake`): one worker is
    /// woken per command instead, once its job is visible. A command that made no pending job
    /// (a duplicate key, a suppressed number) costs that worker one empty claim.
    async fn committed(&self, envelopes: &[&Envelope]) {
        for _ in envelopes {
            self.outbound.wake_one();
        }
    }
}

/// Invalid content is dead-lettered at once; anything else is retried.
pub(crate) fn into_handler_error(error: SenderError) -> HandlerError {
    match error {
        SenderError::Invalid(_) | SenderError::Crypto(_) => HandlerError::reject(error),
        other => HandlerError::retry(other),
    }
}

/// A checked command.
struct Command<'a> {
    cmd: &'a SendSms,
    purpose: SmsPurpose,
    body: crypto::EncryptedBody,
    segments: i32,
    phone_hash: String,
    user_id: Option<Uuid>,
}

impl Outbound {
    /// Creates the job for a send command (once per idempotency key).
    ///
    /// # Errors
    /// [`SenderError::Invalid`] or [`SenderError::Crypto`] for a command that can never be
    /// sent; database errors otherwise.
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    pub async fn accept(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
    ) -> Result<(), SenderError> {
        let command = self.check(envelope)?;
        let now = self.inner.clock.now();
        let (recipient, suppression) =
            state::addressee(tx, command.user_id, &command.phone_hash).await?;
        let block = blocked(tx, &command, recipient.as_ref(), suppression).await?;
        let run_at = run_at(&command, recipient.as_ref(), now)?;
        let job_id = Uuid::now_v7();
        let new = NewJob {
            id: job_id,
            user_id: command.user_id.filter(|_| recipient.is_some()),
            to_e164: &command.cmd.to_e164,
            phone_hash: &command.phone_hash,
            body: &command.body,
            purpose: purpose::name(command.purpose),
            status: if block.is_some() {
                "suppressed"
            } else {
                "pending"
            },
            urgent: purpose::is_urgent(command.purpose, command.cmd.urgent),
            validity_seconds: i32::try_from(command.cmd.validity_seconds)
                .ok()
                .filter(|v| *v > 0),
            segments: command.segments,
            run_at,
            correlation_id: Uuid::parse_str(&envelope.correlation_id).ok(),
            idempotency_key: &envelope.idempotency_key,
            created_at: now,
        };
        if !jobs::insert(tx, &new).await? {
            tracing::debug!("job exists for this idempotency key; nothing to do");
            return Ok(());
        }
        metrics::counter!("outbound_jobs_created_total", "purpose" => purpose::name(command.purpose)).increment(1);
        match block {
            Some(reason) => {
                self.report_suppressed(tx, envelope, &command, job_id, reason, now)
                    .await
            }
            // The insert announced the job.
            None => Ok(()),
        }
    }

    fn check<'a>(&self, envelope: &'a Envelope) -> Result<Command<'a>, SenderError> {
        let Some(Payload::SendSms(cmd)) = &envelope.payload else {
            return Err(SenderError::Invalid("not an outbound.send_sms command"));
        };
        if envelope.idempotency_key.is_empty() {
            return Err(SenderError::Invalid("the command has no idempotency key"));
        }
        crypto::validate_e164(&cmd.to_e164)
            .map_err(|_| SenderError::Invalid("to_e164 is not an E.164 number"))?;
        let purpose = SmsPurpose::try_from(cmd.purpose)
            .ok()
            .filter(|p| *p != SmsPurpose::Unspecified)
            .ok_or(SenderError::Invalid("the command has no purpose"))?;
        let body = cmd
            .body
            .as_ref()
            .ok_or(SenderError::Invalid("the command has no body"))?;
        let body = crypto::EncryptedBody::from_parts(
            body.key_version,
            &body.nonce,
            &body.ciphertext,
            &body.tag,
        )?;
        let text = self
            .inner
            .keyring
            .decrypt_to_string(&body, envelope.idempotency_key.as_bytes())?;
        let segments = twilio::segments::count(text.expose_secret()).segments;
        let user_id = match cmd.user_id.as_str() {
            "" => None,
            id => Some(
                Uuid::parse_str(id).map_err(|_| SenderError::Invalid("user_id is not a UUID"))?,
            ),
        };
        Ok(Command {
            cmd,
            purpose,
            body,
            segments: i32::try_from(segments).unwrap_or(i32::MAX),
            phone_hash: self.inner.pepper.hash(&cmd.to_e164),
            user_id,
        })
    }

    async fn report_suppressed(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        command: &Command<'_>,
        job_id: Uuid,
        reason: SuppressionReason,
        now: OffsetDateTime,
    ) -> Result<(), SenderError> {
        metrics::counter!("outbound_jobs_suppressed_total", "reason" => reason.as_str_name())
            .increment(1);
        let user = command.user_id.map(|u| u.to_string()).unwrap_or_default();
        let origin = Origin {
            at: now,
            correlation_id: envelope.correlation_id.clone(),
            causation_id: envelope.event_id.clone(),
            partition_key: if user.is_empty() {
                command.phone_hash.clone()
            } else {
                user.clone()
            },
        };
        let event = events::suppressed(
            job_id,
            &command.phone_hash,
            &user,
            reason,
            command.purpose,
            now,
        );
        events::publish(tx, &origin, format!("sms.suppressed:{job_id}"), event).await
    }
}

/// Why the command's number may not be texted, if it may not: the suppression list and the
/// user's opt-out, except one opt-out confirmation per opt-out.
async fn blocked(
    tx: &mut PgConnection,
    command: &Command<'_>,
    recipient: Option<&Recipient>,
    suppression: Option<Suppression>,
) -> Result<Option<SuppressionReason>, SenderError> {
    let opted_out_since = match &suppression {
        Some(s) if s.reason == "carrier_opted_out" => {
            return Ok(Some(SuppressionReason::CarrierOptOut21610));
        }
        Some(s) if s.reason == "unusable" => {
            return Ok(Some(if s.error_code.as_deref() == Some("30006") {
                SuppressionReason::LandlineOrUnreachable30006
            } else {
                SuppressionReason::UnknownHandset30005
            }));
        }
        Some(s) => recipient
            .and_then(|r| r.opted_out_at)
            .map_or(s.suppressed_at, |at| at.min(s.suppressed_at)),
        None => match recipient.and_then(|r| r.opted_out_at) {
            Some(at) => at,
            None => return Ok(None),
        },
    };
    if command.purpose == SmsPurpose::OptOutConfirmation
        && jobs::confirmations_since(tx, &command.phone_hash, opted_out_since).await? == 0
    {
        return Ok(None);
    }
    Ok(Some(SuppressionReason::UserOptOut))
}

/// When the job may first be sent: not before the command's `not_before`, and for non-urgent
/// texts outside quiet hours in the recipient's timezone.
fn run_at(
    command: &Command<'_>,
    recipient: Option<&Recipient>,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, SenderError> {
    let not_before = proto::timestamp::from_timestamp_opt(command.cmd.not_before.as_ref())
        .map_err(|_| SenderError::Invalid("not_before is out of range"))?
        .map_or(now, |at| at.max(now));
    if purpose::is_urgent(command.purpose, command.cmd.urgent) {
        return Ok(not_before);
    }
    let timezone = Some(command.cmd.region_timezone.as_str())
        .filter(|tz| !tz.is_empty())
        .or_else(|| recipient.and_then(|r| r.timezone.as_deref()));
    Ok(quiet::earliest_send(not_before, timezone))
}
