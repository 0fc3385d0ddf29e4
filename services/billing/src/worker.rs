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

/// Processes waiting events until `shutdown`.
pub async fn run(processor: Processor, wake: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        if let Err(error) = processor.process_pending().await {
            tracing::warn!(error = %ErrorChain(&error), "processing stripe events failed; retrying");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
