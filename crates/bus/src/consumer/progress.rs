//! Keeping deliveries alive while they are handled: every third of the ack wait, each message
//! in hand is reported in progress (`+WPI`), so a slow transaction (Postgres restarting, a lock
//! wait) is not redelivered while it runs. That is what lets the ack wait be short: a consumer
//! killed mid-message leaves it (and its partition's later messages) waiting only that long.

use std::time::Duration;

use async_nats::jetstream::{AckKind, Message};

use super::Worker;
use crate::inbox::Handler;
use platform::errors::ErrorChain;

/// The shortest interval between progress reports, whatever the ack wait.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// How often messages in hand are reported in progress under `ack_wait`.
fn interval(ack_wait: Duration) -> Duration {
    (ack_wait / 3).max(MIN_INTERVAL)
}

impl<H: Handler> Worker<H> {
    /// Handles `messages` (those that arrived together; see [`Worker::process_all`]), reporting
    /// them in progress until that ends. A report for a message already settled is ignored by
    /// the server.
    pub(super) async fn handle_in_progress(&self, messages: Vec<Message>) {
        let every = interval(self.spec.ack_wait);
        // Clones share the payload's buffer: they cost a reference count each.
        let held = messages.clone();
        let work = self.process_all(messages);
        // The reports run beside the handling, never in its way: a report waiting on a NATS
        // reconnect must not hold up a transaction.
        let reports = async {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                self.report_progress(&held).await;
            }
        };
        tokio::select! {
            () = work => {}
            () = reports => {}
        }
    }

    async fn report_progress(&self, messages: &[Message]) {
        metrics::counter!("bus_consumer_progress_reports_total", &self.labels())
            .increment(messages.len() as u64);
        for message in messages {
            if let Err(error) = message.ack_with(AckKind::Progress).await {
                tracing::debug!(consumer = self.spec.consumer, error = %ErrorChain(&*error), "progress report failed");
            }
        }
    }
}
