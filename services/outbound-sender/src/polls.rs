//! How far the send workers' looks for due jobs have come, so a caller can await "a worker
//! looked after this point and found nothing to send" instead of sleeping and hoping it did.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::watch;

use crate::engine::Outbound;

/// A point in the send workers' progress, taken by [`Outbound::poll_mark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PollMark(u64);

/// Numbers each look for due jobs as it begins and publishes the idle ones as they end.
#[derive(Debug)]
pub(crate) struct Polls {
    /// Looks begun so far; the next one gets this number.
    begun: AtomicU64,
    /// One more than the highest number of a look that ended idle (0: none yet).
    idle: watch::Sender<u64>,
}

impl Polls {
    pub(crate) fn new() -> Self {
        Self {
            begun: AtomicU64::new(0),
            idle: watch::Sender::new(0),
        }
    }

    /// Numbers a look that begins now.
    pub(crate) fn begin(&self) -> u64 {
        self.begun.fetch_add(1, Ordering::SeqCst)
    }

    /// Records that look `number` found nothing to send.
    pub(crate) fn ended_idle(&self, number: u64) {
        self.idle.send_if_modified(|seen| {
            let next = number.saturating_add(1);
            let newer = next > *seen;
            if newer {
                *seen = next;
            }
            newer
        });
    }
}

impl Outbound {
    /// Marks the workers' progress now, for [`Outbound::idle_poll_since`].
    pub fn poll_mark(&self) -> PollMark {
        PollMark(self.inner.polls.begun.load(Ordering::SeqCst))
    }

    /// Resolves once a worker's look for due jobs that began after `mark` ended without
    /// sending: nothing it could claim was due at the clock's time then, or the sender was
    /// paused. Tests await this, with a deadline, as the positive signal behind "nothing
    /// happens": with one worker, a job committed before `mark` and still pending afterwards
    /// was left alone on purpose (with several, others may still be sending jobs they claimed).
    pub async fn idle_poll_since(&self, mark: PollMark) {
        let mut idle = self.inner.polls.idle.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = idle.wait_for(|seen| *seen > mark.0).await;
    }
}
