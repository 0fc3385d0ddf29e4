//! A clock the whole running stack shares, for the demo and local play: every process reads
//! wall time plus one offset kept in a NATS JetStream key-value bucket ([`BUCKET`], key
//! [`OFFSET_KEY`]) and watches it, so `joshctl clock advance 2h` moves every service at once.
//!
//! An offset (not a frozen instant) keeps time flowing between jumps, so the services' real
//! polling loops, retry timers and rate windows behave as they do on the system clock.

use std::fmt;
use std::sync::Arc;

use async_nats::jetstream::{self, kv};
use futures::StreamExt;
use time::{Duration, OffsetDateTime};
use tokio::sync::watch;

use super::{Clock, Sleep};

/// The key-value bucket holding the shared offset.
pub const BUCKET: &str = "josh_clock";
/// The key of the offset (whole nanoseconds ahead of wall time, as decimal text).
pub const OFFSET_KEY: &str = "offset";

/// Reading or moving the shared clock failed.
#[derive(Debug, thiserror::Error)]
pub enum SimulatedClockError {
    /// The bucket could not be created or opened.
    #[error("cannot open the clock bucket {bucket:?} on NATS")]
    Bucket {
        /// The bucket.
        bucket: String,
        /// Why.
        #[source]
        source: async_nats::Error,
    },
    /// Reading, writing or watching the offset failed.
    #[error("cannot {action} the shared clock offset")]
    Offset {
        /// What was being done.
        action: &'static str,
        /// Why.
        #[source]
        source: async_nats::Error,
    },
    /// The stored offset is not a whole number of nanoseconds.
    #[error("the shared clock offset {0:?} is not a whole number of nanoseconds")]
    Malformed(String),
    /// The requested move leaves the representable range.
    #[error("the shared clock cannot move that far")]
    OutOfRange,
}

/// Where the shared offset lives: one bucket on one NATS server. Reads and moves it.
#[derive(Clone)]
pub struct OffsetStore {
    store: kv::Store,
    bucket: String,
}

impl fmt::Debug for OffsetStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OffsetStore")
            .field("bucket", &self.bucket)
            .finish_non_exhaustive()
    }
}

impl OffsetStore {
    /// Opens `bucket` on `client`'s server, creating it when missing.
    ///
    /// # Errors
    /// [`SimulatedClockError::Bucket`] when JetStream refuses.
    pub async fn open(
        client: async_nats::Client,
        bucket: &str,
    ) -> Result<Self, SimulatedClockError> {
        let context = jetstream::new(client);
        let bucket_error = |source: async_nats::Error| SimulatedClockError::Bucket {
            bucket: bucket.to_owned(),
            source,
        };
        // The bucket's stream, made here rather than by `create_key_value`, whose account
        // query older servers (2.9) answer in a shape the client cannot read.
        context
            .get_or_create_stream(jetstream::stream::Config {
                name: format!("KV_{bucket}"),
                description: Some("JOSH's shared simulated clock (dev and demo only)".to_owned()),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: 1,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: jetstream::stream::DiscardPolicy::New,
                ..Default::default()
            })
            .await
            .map_err(|e| bucket_error(e.into()))?;
        let store = context
            .get_key_value(bucket)
            .await
            .map_err(|e| bucket_error(e.into()))?;
        Ok(Self {
            store,
            bucket: bucket.to_owned(),
        })
    }

    /// The current offset and its revision (zero and `None` when never set).
    async fn entry(&self) -> Result<(Duration, Option<u64>), SimulatedClockError> {
        let entry = self
            .store
            .entry(OFFSET_KEY)
            .await
            .map_err(|source| offset_error("read", source))?;
        match entry {
            Some(entry) if entry.operation == kv::Operation::Put => {
                Ok((decode(&entry.value)?, Some(entry.revision)))
            }
            Some(entry) => Ok((Duration::ZERO, Some(entry.revision))),
            None => Ok((Duration::ZERO, None)),
        }
    }

    /// The current offset (zero when never set).
    ///
    /// # Errors
    /// When NATS cannot be read or the stored value is malformed.
    pub async fn offset(&self) -> Result<Duration, SimulatedClockError> {
        Ok(self.entry().await?.0)
    }

    /// Moves the shared clock forward (or back, for a negative `by`); returns the new offset.
    /// Concurrent moves all count: each is a compare-and-set retried on conflict.
    ///
    /// # Errors
    /// When NATS cannot be read or written.
    pub async fn advance(&self, by: Duration) -> Result<Duration, SimulatedClockError> {
        loop {
            let (current, revision) = self.entry().await?;
            let next = current
                .checked_add(by)
                .ok_or(SimulatedClockError::OutOfRange)?;
            let value = encode(next);
            let written: Result<(), (bool, async_nats::Error)> = match revision {
                Some(revision) => self
                    .store
                    .update(OFFSET_KEY, value, revision)
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.kind() == kv::UpdateErrorKind::WrongLastRevision, e.into())),
                None => self
                    .store
                    .create(OFFSET_KEY, value)
                    .await
                    .map(|_| ())
                    .map_err(|e| (e.kind() == kv::CreateErrorKind::AlreadyExists, e.into())),
            };
            match written {
                Ok(()) => return Ok(next),
                Err((true, _)) => continue,
                Err((false, source)) => return Err(offset_error("write", source)),
            }
        }
    }

    /// Sets the shared clock so that it shows `at` now; returns the new offset.
    ///
    /// # Errors
    /// When NATS cannot be written.
    pub async fn set(&self, at: OffsetDateTime) -> Result<Duration, SimulatedClockError> {
        let offset = at - OffsetDateTime::now_utc();
        self.store
            .put(OFFSET_KEY, encode(offset))
            .await
            .map_err(|source| offset_error("write", source))?;
        Ok(offset)
    }

    /// Removes the bucket (tests clean up after themselves).
    ///
    /// # Errors
    /// When JetStream refuses.
    pub async fn delete_bucket(
        self,
        client: async_nats::Client,
    ) -> Result<(), SimulatedClockError> {
        jetstream::new(client)
            .delete_key_value(&self.bucket)
            .await
            .map(|_| ())
            .map_err(|source| SimulatedClockError::Bucket {
                bucket: self.bucket.clone(),
                source: source.into(),
            })
    }
}

fn offset_error(action: &'static str, source: impl Into<async_nats::Error>) -> SimulatedClockError {
    SimulatedClockError::Offset {
        action,
        source: source.into(),
    }
}

fn encode(offset: Duration) -> bytes::Bytes {
    offset.whole_nanoseconds().to_string().into()
}

fn decode(value: &[u8]) -> Result<Duration, SimulatedClockError> {
    let text = String::from_utf8_lossy(value);
    let nanos: i128 = text
        .trim()
        .parse()
        .map_err(|_| SimulatedClockError::Malformed(text.to_string()))?;
    let nanos =
        i64::try_from(nanos).map_err(|_| SimulatedClockError::Malformed(text.to_string()))?;
    Ok(Duration::nanoseconds(nanos))
}

/// Wall time plus the shared offset, following every change to it. Cloning shares one watch.
#[derive(Debug, Clone)]
pub struct SimulatedClock {
    offset: watch::Receiver<Duration>,
    _watcher: Arc<Watcher>,
}

/// Stops the watch task when the last clone of the clock goes.
#[derive(Debug)]
struct Watcher(tokio::task::JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SimulatedClock {
    /// Reads the current offset from `store` and keeps following it.
    ///
    /// # Errors
    /// When the first read fails (a clock that cannot know the time must not start).
    pub async fn follow(store: OffsetStore) -> Result<Self, SimulatedClockError> {
        let initial = store.offset().await?;
        let (sender, offset) = watch::channel(initial);
        let task = tokio::spawn(watch_offset(store, sender));
        Ok(Self {
            offset,
            _watcher: Arc::new(Watcher(task)),
        })
    }

    /// The offset this clock currently applies.
    pub fn offset(&self) -> Duration {
        *self.offset.borrow()
    }
}

/// Follows the offset key forever, re-subscribing after any failure.
async fn watch_offset(store: OffsetStore, sender: watch::Sender<Duration>) {
    loop {
        match store.store.watch_with_history(OFFSET_KEY).await {
            Ok(mut updates) => {
                while let Some(update) = updates.next().await {
                    match update {
                        Ok(entry) => apply(&sender, &entry),
                        Err(error) => {
                            tracing::warn!(error = %crate::errors::ErrorChain(&error), "clock watch failed; re-subscribing");
                            break;
                        }
                    }
                }
            }
            Err(error) => {
                tracing::warn!(error = %crate::errors::ErrorChain(&error), "cannot watch the shared clock; retrying");
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn apply(sender: &watch::Sender<Duration>, entry: &kv::Entry) {
    let offset = match entry.operation {
        kv::Operation::Put => match decode(&entry.value) {
            Ok(offset) => offset,
            Err(error) => {
                tracing::warn!(error = %error, "ignoring a malformed shared clock offset");
                return;
            }
        },
        kv::Operation::Delete | kv::Operation::Purge => Duration::ZERO,
    };
    sender.send_if_modified(|current| {
        let changed = *current != offset;
        *current = offset;
        changed
    });
    tracing::info!(
        offset_seconds = offset.whole_seconds(),
        "shared clock offset"
    );
}

impl Clock for SimulatedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.offset.borrow()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        let mut offset = self.offset.clone();
        Box::pin(async move {
            loop {
                let now = OffsetDateTime::now_utc() + *offset.borrow_and_update();
                let Ok(wait) = std::time::Duration::try_from(deadline - now) else {
                    return;
                };
                if wait.is_zero() {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    changed = offset.changed() => {
                        if changed.is_err() {
                            // The watch is gone (shutting down): wall time is all that is left.
                            tokio::time::sleep(wait).await;
                            return;
                        }
                    }
                }
            }
        })
    }
}
