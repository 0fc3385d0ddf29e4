//! A record that fails for a passing reason (Postgres restarting, a broken connection) is tried
//! again while the job's lease lasts: the text may already be on its way, and a record given up
//! leaves the job to wait out its lease and a lookup at Twilio before anyone settles it.

use std::time::Duration;

use secrecy::SecretString;
use twilio::client::{ApiError, MessageResource};

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::send::Lease;
use crate::store::claim::Job;

/// First pause before recording an outcome again; doubled per try up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(100);
/// Longest pause between tries.
const RETRY_MAX: Duration = Duration::from_secs(2);
/// Time a try may take (a pool wait, the statements) that must still fit in the lease.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// What an attempt to send came to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempt<'a> {
    /// Twilio created the message (`adopted`: found by the lookup after an earlier attempt).
    Sent {
        created: &'a MessageResource,
        adopted: bool,
    },
    /// Twilio refused, or the outcome is unknown (`in_doubt`).
    Failed { error: &'a ApiError, in_doubt: bool },
}

impl Outbound {
    /// Records `attempt` for `job`, again after a transient database failure (with a growing
    /// pause) as long as the try would still end inside `lease`.
    pub(crate) async fn settle(
        &self,
        job: &Job,
        body: &SecretString,
        lease: Lease<'_>,
        attempt: Attempt<'_>,
    ) -> Result<(), SenderError> {
        let mut pause = RETRY_FIRST;
        loop {
            let recorded = match attempt {
                Attempt::Sent { created, adopted } => {
                    self.record_sent(job, created, body, adopted).await
                }
                Attempt::Failed { error, in_doubt } => {
                    self.record_error(job, lease.owner, error, in_doubt).await
                }
            };
            match recorded {
                Err(error)
                    if error.is_transient()
                        && self.inner.clock.now() + pause + LEASE_MARGIN < lease.until =>
                {
                    metrics::counter!("outbound_settle_retries_total").increment(1);
                    tracing::warn!(error = %platform::errors::ErrorChain(&error), pause_ms = pause.as_millis() as u64, "recording the send's outcome failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(RETRY_MAX);
                }
                recorded => return recorded,
            }
        }
    }
}
