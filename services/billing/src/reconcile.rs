//! The reconciliation job: every 15 minutes, re-fetch every live subscription from Stripe and
//! apply it as the newest truth (a lost or delayed webhook cannot leave a wrong entitlement for
//! long), re-derive entitlements whose window (grace, checkout) has run out, and retry failed events.

use std::time::Duration;

use platform::errors::ErrorChain;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::entitlement;
use crate::error::BillingError;
use crate::process::Processor;
use crate::store;
use crate::wire;

/// How often the job runs by default (`BILLING_RECONCILE_INTERVAL_SECS`).
pub const PERIOD: Duration = Duration::from_secs(15 * 60);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Subscriptions re-fetched (live ones, and those of checkouts whose webhooks never came).
    pub refreshed: usize,
    /// Subscriptions that could not be fetched (left for the next pass).
    pub failed: usize,
    /// Entitlements re-derived because their window ran out.
    pub expired: usize,
}

/// Runs a pass every `period` until `shutdown`.
pub async fn run(processor: Processor, period: Duration, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match pass(&processor).await {
            Ok(report) => tracing::info!(
                refreshed = report.refreshed,
                failed = report.failed,
                expired = report.expired,
                "reconciliation pass done"
            ),
            Err(error) => tracing::warn!(error = %ErrorChain(&error), "reconciliation pass failed"),
        }
    }
}

/// One pass: live subscriptions re-fetched, recent checkouts whose webhooks never came
/// completed from the session, ran-out windows re-derived, failed events released.
///
/// # Errors
/// [`BillingError::Database`] when the work cannot be listed.
pub async fn pass(processor: &Processor) -> Result<Report, BillingError> {
    let mut report = Report::default();
    let now = processor.clock().now();
    let (live, awaiting) = {
        let mut conn = processor.pool().acquire().await?;
        let since = now - CHECKOUT_LOOKBACK;
        (
            store::subscriptions::live(&mut conn).await?,
            store::subscriptions::awaiting_checkout(&mut conn, since).await?,
        )
    };
    for (user_id, subscription) in live {
        count(
            &mut report,
            user_id,
            refresh(processor, user_id, &subscription).await,
        );
    }
    for (user_id, session) in awaiting {
        match completed_subscription(processor, &session).await {
            Ok(Some(subscription)) => {
                let refreshed = refresh(processor, user_id, &subscription).await;
                count(&mut report, user_id, refreshed);
            }
            Ok(None) => {}
            Err(error) => count(&mut report, user_id, Err(error)),
        }
    }
    report.expired = expire_windows(processor).await?;
    processor.retry_failed(None).await?;
    Ok(report)
}

/// How far back checkouts without a subscription are looked at (Stripe expires sessions after
/// at most 24 hours).
const CHECKOUT_LOOKBACK: time::Duration = time::Duration::days(2);

fn count(report: &mut Report, user_id: Uuid, result: Result<(), BillingError>) {
    match result {
        Ok(()) => report.refreshed += 1,
        Err(error) => {
            report.failed += 1;
            tracing::warn!(%user_id, error = %ErrorChain(&error), "cannot reconcile subscription");
        }
    }
}

/// The subscription a checkout session started, once it completed.
async fn completed_subscription(
    processor: &Processor,
    session: &str,
) -> Result<Option<String>, BillingError> {
    let session = processor
        .stripe()
        .get(&format!("checkout/sessions/{session}"))
        .await?;
    if session.get("status").and_then(serde_json::Value::as_str) != Some("complete") {
        return Ok(None);
    }
    Ok(crate::stripe::id_of(&session, "subscription"))
}

/// Re-derives every entitlement whose window (grace, checkout) has run out; returns how many.
async fn expire_windows(processor: &Processor) -> Result<usize, BillingError> {
    let now = processor.clock().now();
    let expired = {
        let mut conn = processor.pool().acquire().await?;
        store::subscriptions::expired_windows(&mut conn, now).await?
    };
    for user_id in &expired {
        let mut tx = processor.pool().begin().await?;
        let sub = store::subscriptions::lock(&mut tx, *user_id).await?;
        let cause = format!("expiry:{}", now.unix_timestamp());
        processor
            .rederive(&mut tx, *user_id, &sub, &cause, "")
            .await?;
        tx.commit().await?;
    }
    Ok(expired.len())
}

#[tracing::instrument(skip_all, fields(%user_id, subscription))]
async fn refresh(
    processor: &Processor,
    user_id: Uuid,
    subscription: &str,
) -> Result<(), BillingError> {
    // Stamped when the request starts (see `Processor::fetch`).
    let now = processor.clock().now();
    let object = processor
        .stripe()
        .get(&format!("subscriptions/{subscription}"))
        .await?;
    let source = format!("reconcile:{}", now.unix_timestamp());
    let snap =
        wire::snapshot(&object, now, &source).map_err(crate::stripe::StripeError::Missing)?;
    let mut tx = processor.pool().begin().await?;
    let sub = store::subscriptions::lock(&mut tx, user_id).await?;
    if let Some(next) = entitlement::apply(&sub, &snap) {
        store::subscriptions::save(&mut tx, user_id, &next).await?;
        processor
            .rederive(&mut tx, user_id, &next, &source, "")
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
