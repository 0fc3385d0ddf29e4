//! billing's metrics (Prometheus, through the `metrics` facade; served on `/metrics`).
//!
//! - `billing_webhooks_total{outcome}`: `stored`, `duplicate`, `rejected`, `failed` answers.
//! - `billing_webhooks_rejected_total{reason}`: 400 answers by reason (signature, timestamp, JSON).
//! - `billing_events_total{outcome}`: stored events `processed` or `failed` (kept for a retry).
//! - `billing_entitlement_changes_total{reason}`: announced changes, by the new reason.

/// Counts one webhook answer; `reason` for rejections.
pub fn webhook(outcome: &'static str, reason: Option<&'static str>) {
    metrics::counter!("billing_webhooks_total", "outcome" => outcome).increment(1);
    if let Some(reason) = reason {
        metrics::counter!("billing_webhooks_rejected_total", "reason" => reason).increment(1);
    }
}

/// Counts one processed or failed event.
pub fn event(outcome: &'static str) {
    metrics::counter!("billing_events_total", "outcome" => outcome).increment(1);
}

/// Counts one announced entitlement change.
pub fn entitlement_change(reason: &'static str) {
    metrics::counter!("billing_entitlement_changes_total", "reason" => reason).increment(1);
}
