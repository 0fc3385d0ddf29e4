//! Recording what came of a send, each outcome in one transaction with its events
//! ([`Outbound::settle`] in `retry` tries again after a passing failure).

use std::time::Duration;

use sqlx::PgConnection;
use twilio::client::ApiError;
use twilio::errors::ErrorAction;

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::events::{self, Failure, Origin};
use crate::purpose;
use crate::store::claim::Job;
use crate::store::jobs::{self, AttemptError};
use crate::store::state;

mod record;
mod retry;

pub(crate) use retry::Attempt;

impl Outbound {
    pub(crate) fn origin_of(&self, job: &Job) -> Origin {
        Origin {
            at: self.inner.clock.now(),
            correlation_id: job
                .correlation_id
                .map(|c| c.to_string())
                .unwrap_or_default(),
            causation_id: String::new(),
            partition_key: job
                .user_id
                .map(|u| u.to_string())
                .or_else(|| job.phone_hash.clone())
                .unwrap_or_else(|| job.id.to_string()),
        }
    }

    /// A failed attempt: retried with backoff, suppressed, paused or failed, as the Twilio error
    /// code and HTTP status say. `in_doubt` keeps the started marker for the next attempt.
    pub(super) async fn record_error(
        &self,
        job: &Job,
        owner: &str,
        error: &ApiError,
        in_doubt: bool,
    ) -> Result<(), SenderError> {
        let code = error.code().and_then(|c| i32::try_from(c).ok());
        let last_error = describe(error);
        let attempt = AttemptError {
            last_error: &last_error,
            error_code: code,
        };
        let failure = Failure {
            error_code: code.unwrap_or(0),
            http_status: error.http_status().map_or(0, u32::from),
            attempts: u32::try_from(job.attempts + 1).unwrap_or(u32::MAX),
            reason: "rejected",
        };
        tracing::warn!(error = %error, action = ?error.action(), "send attempt failed");
        match error.action() {
            ErrorAction::RetryLater if failure.attempts < self.inner.settings.max_attempts => {
                self.retry(job, owner, attempt, in_doubt).await
            }
            ErrorAction::RetryLater => {
                let failure = Failure {
                    reason: "retries_exhausted",
                    ..failure
                };
                self.fail(job, attempt, failure, None).await
            }
            ErrorAction::Suppress | ErrorAction::MarkUnusable => {
                let reason = if error.action() == ErrorAction::Suppress {
                    "carrier_opt_out"
                } else {
                    "number_unusable"
                };
                self.fail(job, attempt, Failure { reason, ..failure }, code)
                    .await
            }
            ErrorAction::PauseSender => {
                self.pause_for(job, owner, attempt, code.unwrap_or(0)).await
            }
            ErrorAction::Fail => self.fail(job, attempt, failure, None).await,
        }
    }

    async fn retry(
        &self,
        job: &Job,
        owner: &str,
        attempt: AttemptError<'_>,
        in_doubt: bool,
    ) -> Result<(), SenderError> {
        let settings = &self.inner.settings;
        let delay = backoff(
            settings.retry_base,
            settings.retry_cap,
            job.attempts,
            jitter(),
        );
        let run_at = self.inner.clock.now() + delay;
        let mut tx = self.inner.pool.begin().await?;
        jobs::mark_retry(&mut tx, job.id, owner, run_at, attempt, in_doubt).await?;
        tx.commit().await?;
        metrics::counter!("outbound_jobs_retried_total").increment(1);
        tracing::info!(delay_ms = delay.as_millis() as u64, "send will be retried");
        Ok(())
    }

    /// Fails the job for good with `sms.send_failed`; with `carrier_code` (21610, 30005, 30006)
    /// the number is suppressed too and `sms.number_marked_unusable` published.
    async fn fail(
        &self,
        job: &Job,
        attempt: AttemptError<'_>,
        failure: Failure<'_>,
        carrier_code: Option<i32>,
    ) -> Result<(), SenderError> {
        let origin = self.origin_of(job);
        let mut tx = self.inner.pool.begin().await?;
        if !jobs::mark_failed(&mut tx, job.id, attempt).await? {
            tx.rollback().await?;
            return Ok(());
        }
        if let (Some(code), Some(hash)) = (carrier_code, job.phone_hash.as_deref()) {
            self.suppress_number(&mut tx, &origin, hash, job.user_id, code, "")
                .await?;
        }
        let user = job.user_id.map(|u| u.to_string()).unwrap_or_default();
        let event = events::send_failed(
            job.id,
            &user,
            purpose::parse(&job.purpose),
            failure,
            origin.at,
        );
        events::publish(
            &mut tx,
            &origin,
            format!("sms.send_failed:{}", job.id),
            event,
        )
        .await?;
        self.scrub_if_deleted(&mut tx, job.user_id, job.phone_hash.as_deref())
            .await?;
        tx.commit().await?;
        metrics::counter!("outbound_jobs_failed_total", "reason" => failure.reason.to_owned())
            .increment(1);
        Ok(())
    }

    /// Puts `phone_hash` on the suppression list for carrier error `code`, publishing
    /// `sms.number_marked_unusable` when it was not there yet.
    pub(crate) async fn suppress_number(
        &self,
        tx: &mut PgConnection,
        origin: &Origin,
        phone_hash: &str,
        user_id: Option<uuid::Uuid>,
        code: i32,
        message_sid: &str,
    ) -> Result<(), SenderError> {
        let reason = if code == 21610 {
            "carrier_opted_out"
        } else {
            "unusable"
        };
        if !state::suppress(tx, phone_hash, user_id, reason, Some(code), origin.at).await? {
            return Ok(());
        }
        metrics::counter!("outbound_numbers_suppressed_total", "reason" => reason).increment(1);
        let user = user_id.map(|u| u.to_string()).unwrap_or_default();
        let event = events::number_unusable(phone_hash, &user, code, message_sid, origin.at);
        let key = format!(
            "sms.number_marked_unusable:{phone_hash}:{code}:{}",
            origin.at.unix_timestamp_nanos()
        );
        events::publish(tx, origin, key, event).await
    }

    /// Twilio blocked the sender: the job goes back to waiting, the sender is paused.
    async fn pause_for(
        &self,
        job: &Job,
        owner: &str,
        attempt: AttemptError<'_>,
        code: i32,
    ) -> Result<(), SenderError> {
        let mut tx = self.inner.pool.begin().await?;
        jobs::release(&mut tx, job.id, owner, Some(attempt)).await?;
        self.pause_sender(&mut tx, self.inner.settings.sender.as_str(), code)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pauses `sender` for error `code` and alerts ops.
    pub(crate) async fn pause_sender(
        &self,
        tx: &mut PgConnection,
        sender: &str,
        code: i32,
    ) -> Result<(), SenderError> {
        let reason = if code == 30034 {
            "unregistered_a2p"
        } else {
            "carrier_filtered"
        };
        let now = self.inner.clock.now();
        if state::pause(tx, sender, reason, code, now).await? {
            metrics::gauge!(crate::PAUSED_GAUGE, "sender" => sender.to_owned()).set(1.0);
            tracing::error!(
                sender,
                error_code = code,
                reason,
                "Twilio blocked this sender: sending is paused until ops resume it (joshctl sender resume)"
            );
        }
        Ok(())
    }

    /// A job whose body cannot be read (purged, wrong key) can never be sent.
    pub(crate) async fn fail_unreadable(&self, job: &Job) -> Result<(), SenderError> {
        let attempt = AttemptError {
            last_error: "body_unreadable",
            error_code: None,
        };
        let failure = Failure {
            error_code: 0,
            http_status: 0,
            attempts: u32::try_from(job.attempts + 1).unwrap_or(u32::MAX),
            reason: "body_unreadable",
        };
        self.fail(job, attempt, failure, None).await
    }
}

/// A short machine-readable description (never content or numbers).
fn describe(error: &ApiError) -> String {
    match (error.http_status(), error.code()) {
        (Some(status), Some(code)) => format!("twilio_http_{status}_code_{code}"),
        (Some(status), None) => format!("twilio_http_{status}"),
        _ if error.outcome_unknown() => "twilio_no_answer".to_owned(),
        _ => "twilio_unreachable".to_owned(),
    }
}

/// `base * 2^attempts` capped at `cap`, scaled by `jitter` in [0.5, 1].
pub(crate) fn backoff(base: Duration, cap: Duration, attempts: i32, jitter: f64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(0);
    let full = base.saturating_mul(2_u32.saturating_pow(exponent)).min(cap);
    full.mul_f64(jitter.clamp(0.5, 1.0))
}

/// A random factor in [0.5, 1].
fn jitter() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() & 0xFFFF;
    0.5 + (bits as f64 / f64::from(u16::MAX)) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let base = Duration::from_secs(30);
        let cap = Duration::from_secs(900);
        assert_eq!(backoff(base, cap, 0, 1.0), base);
        assert_eq!(backoff(base, cap, 2, 1.0), Duration::from_secs(120));
        assert_eq!(backoff(base, cap, 10, 1.0), cap);
        assert_eq!(backoff(base, cap, 1, 0.5), Duration::from_secs(30));
        assert_eq!(
            backoff(base, cap, 1, 0.0),
            Duration::from_secs(30),
            "jitter floor"
        );
        for _ in 0..100 {
            let j = jitter();
            assert!((0.5..=1.0).contains(&j), "{j}");
        }
    }
}
