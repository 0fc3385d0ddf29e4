//! Leases a worker holds without knowing it, handed back so their jobs go out now rather than
//! when the lease runs out (60 s or more): those of this instance's previous process, at start,
//! and a worker's own after a step failed (a claim that committed though its answer was lost
//! when Postgres went away leaves a job leased to a worker that never saw it). A job handed back
//! keeps its started marker, so its next attempt asks Twilio first and never sends it twice.

use crate::engine::Outbound;
use crate::error::SenderError;
use crate::store::jobs;

impl Outbound {
    /// Hands back the jobs this instance's workers held when its previous process died (a
    /// restarted pod keeps its name).
    pub(crate) async fn take_back_leases(&self) {
        let prefix = format!("{}/", self.inner.settings.instance);
        let released = async {
            let mut conn = self.inner.pool.acquire().await?;
            jobs::release_owned_by(&mut conn, &prefix).await
        };
        match released.await {
            Ok(0) => {}
            Ok(jobs) => tracing::info!(
                jobs,
                instance = %self.inner.settings.instance,
                "took back jobs this instance held before it restarted"
            ),
            // Their leases run out in time.
            Err(error) => {
                tracing::warn!(error = %platform::errors::ErrorChain(&error), "could not take back this instance's earlier leases")
            }
        }
    }

    /// Hands back whatever is leased to worker `owner`, which holds nothing it knows of: called
    /// before its next claim after a step failed.
    ///
    /// # Errors
    /// When Postgres cannot be reached yet (the worker tries again before its next claim).
    pub(crate) async fn hand_back_own(&self, owner: &str) -> Result<(), SenderError> {
        let mut conn = self.inner.pool.acquire().await?;
        let released = jobs::release_leased_to(&mut conn, owner).await?;
        if released > 0 {
            metrics::counter!("outbound_unknown_leases_released_total").increment(released);
            tracing::info!(worker = %owner, jobs = released, "handed back jobs leased to this worker after a failed step");
        }
        Ok(())
    }
}
