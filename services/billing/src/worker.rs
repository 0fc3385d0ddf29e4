//! The background processing worker: wakes on every stored event (and on a timer as a safety
//! net) and processes what waits.

use std::sync::Arc;
use std::time::Duration;

use platform::errors::ErrorChain;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::process::Processor;

/// How often the worker looks even without a wake-up (events stored by another replica).
pub const POLL: Duration = Duration::from_secs(10);
/// How often events that failed for a transient reason are tried again.
pub const TRANSIENT_RETRY: Duration = Duration::from_secs(60);

/// Processes waiting events until `shutdown`.
pub async fn run(processor: Processor, wake: Arc<Notify>, shutdown: CancellationToken) {
    let mut retries = tokio::time::interval(TRANSIENT_RETRY);
    retries.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if let Err(error) = processor.process_pending().await {
            tracing::warn!(error = %ErrorChain(&error), "processing stripe events failed; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            _ = retries.tick() => {
                if let Err(error) = processor.retry_transient().await {
                    tracing::warn!(error = %ErrorChain(&error), "retrying failed stripe events failed");
                }
            }
        }
    }
}
