//! inbound-sms's metrics (Prometheus, through the `metrics` facade; served on `/metrics`).
//!
//! - `inbound_sms_webhooks_accepted_total{endpoint}`: new messages stored / new statuses enqueued.
//! - `inbound_sms_webhooks_duplicate_total{endpoint}`: redeliveries answered without effect.
//! - `inbound_sms_webhooks_rejected_total{endpoint,reason}`: 4xx answers, by reason.
//! - `inbound_sms_webhooks_failed_total{endpoint,reason}`: 5xx answers (Twilio retries them).
//! - `inbound_sms_webhook_duration_seconds{endpoint,outcome}`: time to answer.
//!
//! `endpoint` is `sms` or `status`.

use std::time::Duration;

/// Which webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/twilio/sms`.
    Sms,
    /// `POST /v1/twilio/status`.
    Status,
}

impl Endpoint {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Status => "status",
        }
    }
}

/// How a webhook ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored or enqueued for the first time.
    Accepted,
    /// Already stored or enqueued: answered the same, nothing changed.
    Duplicate,
    /// Answered 4xx.
    Rejected(&'static str),
    /// Answered 5xx.
    Failed(&'static str),
}

impl Outcome {
    /// The `outcome` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Duplicate => "duplicate",
            Self::Rejected(_) => "rejected",
            Self::Failed(_) => "failed",
        }
    }
}

/// Counts one answered webhook and records how long it took.
pub fn record(endpoint: Endpoint, outcome: Outcome, elapsed: Duration) {
    let endpoint = endpoint.as_str();
    match outcome {
        Outcome::Accepted => {
            ::metrics::counter!("inbound_sms_webhooks_accepted_total", "endpoint" => endpoint)
                .increment(1);
        }
        Outcome::Duplicate => {
            ::metrics::counter!("inbound_sms_webhooks_duplicate_total", "endpoint" => endpoint)
                .increment(1);
        }
        Outcome::Rejected(reason) => {
            ::metrics::counter!("inbound_sms_webhooks_rejected_total", "endpoint" => endpoint, "reason" => reason)
                .increment(1);
        }
        Outcome::Failed(reason) => {
            ::metrics::counter!("inbound_sms_webhooks_failed_total", "endpoint" => endpoint, "reason" => reason)
                .increment(1);
        }
    }
    ::metrics::histogram!(
        "inbound_sms_webhook_duration_seconds",
        "endpoint" => endpoint,
        "outcome" => outcome.as_str()
    )
    .record(elapsed.as_secs_f64());
}
