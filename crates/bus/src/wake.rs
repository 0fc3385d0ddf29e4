//! How a producer's outbox relay learns that rows were committed.
//!
//! The outbox insert trigger sends a Postgres NOTIFY, which is simple but costly under load:
//! Postgres serializes every notifying commit in the cluster behind one lock, held through the
//! commit's WAL flush, so those commits cannot share a flush (group commit) and each waits for
//! the one before it. Hot paths therefore switch the NOTIFY off for their transaction
//! ([`Notify::ByCaller`]) and wake the relay over core NATS after the commit
//! ([`RelayWaker::wake`]). Whatever does not opt out keeps the NOTIFY, and the relay's polling
//! fallback finds any row whose wake-up was lost.

use bytes::Bytes;

use crate::subjects;

/// The transaction-local setting the outbox insert trigger (and outbound-sender's job insert)
/// reads: `off` means the caller wakes whoever waits for the rows after commit.
pub const NOTIFY_SETTING: &str = "josh.notify";

/// Who tells the relay about the outbox rows a transaction stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Postgres NOTIFY at commit, from the insert trigger.
    AtCommit,
    /// The caller, after commit ([`RelayWaker::wake`]); the transaction sends no NOTIFY. A
    /// caller that forgets leaves its rows to the relay's polling fallback.
    ByCaller,
}

impl Notify {
    /// The value of [`NOTIFY_SETTING`] for this choice, for `set_config(.., .., true)` in the
    /// transaction's first statement.
    pub fn setting(self) -> &'static str {
        match self {
            Self::AtCommit => "on",
            Self::ByCaller => "off",
        }
    }
}

/// Wakes one producer's outbox relay, wherever its leader runs.
#[derive(Debug, Clone)]
pub struct RelayWaker {
    client: async_nats::Client,
    subject: String,
}

impl RelayWaker {
    /// A waker for `producer`'s relay over `client`.
    pub fn new(client: async_nats::Client, producer: &str) -> Self {
        Self {
            client,
            subject: subjects::relay_wake(producer),
        }
    }

    /// Tells the relay that rows were committed. Fire and forget: a wake-up lost with a NATS
    /// outage only delays the rows until the relay's next poll.
    pub async fn wake(&self) {
        if let Err(error) = self
            .client
            .publish(self.subject.clone(), Bytes::new())
            .await
        {
            tracing::debug!(subject = %self.subject, error = %error, "relay wake-up not sent; the relay's poll finds the rows");
        }
    }

    /// The subject the relay listens on.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}
