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

/// Longest a wake-up waits for room in the NATS client's send queue.
pub const WAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(20);

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
    /// [`Notify::ByCaller`] when there is a waker to wake the relay after commit (see
    /// [`after_commit`]), else [`Notify::AtCommit`].
    pub fn by(waker: Option<&RelayWaker>) -> Self {
        if waker.is_some() {
            Self::ByCaller
        } else {
            Self::AtCommit
        }
    }

    /// The value of [`NOTIFY_SETTING`] for this choice, for `set_config(.., .., true)` in the
    /// transaction's first statement.
    pub fn setting(self) -> &'static str {
        match self {
            Self::AtCommit => "on",
            Self::ByCaller => "off",
        }
    }
}

/// What a transaction stored with [`Notify::by`]`(waker)` owes after its commit: wakes the
/// relay when there is a waker (without one, the NOTIFY did).
pub async fn after_commit(waker: Option<&RelayWaker>) {
    if let Some(waker) = waker {
        waker.wake().await;
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

    /// Tells the relay that rows were committed. Never waits on NATS: while the client is not
    /// connected (its send queue is not drained then, and a full queue would hold up the
    /// caller: a webhook, a sender worker) the wake-up is skipped, and a publish that cannot be
    /// queued at once is given up after [`WAKE_TIMEOUT`]. A skipped wake-up only delays the rows
    /// until the relay's next poll.
    pub async fn wake(&self) {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            tracing::debug!(subject = %self.subject, "NATS not connected; the relay's poll finds the rows");
            return;
        }
        let publish = self.client.publish(self.subject.clone(), Bytes::new());
        match tokio::time::timeout(WAKE_TIMEOUT, publish).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::debug!(subject = %self.subject, error = %error, "relay wake-up not sent; the relay's poll finds the rows");
            }
            Err(_) => {
                tracing::debug!(subject = %self.subject, "relay wake-up timed out; the relay's poll finds the rows");
            }
        }
    }

    /// The subject the relay listens on.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}
