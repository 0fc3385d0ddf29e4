//! Webhooks stored in groups. Each webhook is stored before it is answered, and one
//! transaction apiece costs a BEGIN, a COMMIT (a WAL flush) and a statement per table for every
//! request. A writer task takes every record waiting when it starts a group (never waiting for
//! more, so a lone webhook is stored at once) and stores them in one transaction. A failed group
//! is written again one record at a time, so only a record that fails on its own is answered
//! with an error.

use std::future::Future;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::Error;

/// Records stored in one transaction at most.
const MAX_GROUP: usize = 64;
/// Records waiting for the writer at most; more wait for a slot (backpressure on Twilio).
const QUEUE: usize = 1024;

/// How one kind of record is stored.
pub trait Group: Send + Sync + 'static {
    /// What a request hands the writer.
    type Record: Send + Sync + 'static;
    /// Names the records in logs, e.g. "status callbacks".
    const NAME: &'static str;

    /// Stores `records` in one transaction; for each, in order, whether it was new (false for
    /// one stored before: a redelivery). Nothing is stored when it fails.
    fn write<'a>(
        &'a self,
        pool: &'a PgPool,
        records: &'a [&'a Self::Record],
    ) -> impl Future<Output = Result<Vec<bool>, Error>> + Send + 'a;
}

struct Pending<R> {
    record: R,
    stored: oneshot::Sender<Result<bool, Error>>,
}

/// The handle requests store their records through; cheap to clone.
pub struct GroupWriter<R> {
    queue: mpsc::Sender<Pending<R>>,
}

impl<R> Clone for GroupWriter<R> {
    fn clone(&self) -> Self {
        Self {
            queue: self.queue.clone(),
        }
    }
}

impl<R> std::fmt::Debug for GroupWriter<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter")
            .field("waiting", &(QUEUE - self.queue.capacity()))
            .finish()
    }
}

impl<R: Send + Sync + 'static> GroupWriter<R> {
    /// Starts the writer task storing through `group` on `pool`; it ends once every handle is
    /// dropped and the queue is empty, so requests in flight at shutdown are still stored and
    /// answered.
    pub fn spawn<G: Group<Record = R>>(pool: PgPool, group: G) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, group, waiting));
        Self { queue }
    }

    /// Stores `record` with the records waiting alongside it; true when it was new, false for
    /// one stored before (a redelivery).
    ///
    /// # Errors
    /// The database's error, or [`Error::Unavailable`] when the writer is gone.
    pub async fn store(&self, record: R) -> Result<bool, Error> {
        let (stored, answer) = oneshot::channel();
        self.queue
            .send(Pending { record, stored })
            .await
            .map_err(|_| Error::Unavailable)?;
        answer.await.map_err(|_| Error::Unavailable)?
    }
}

async fn run<G: Group>(pool: PgPool, group: G, mut waiting: mpsc::Receiver<Pending<G::Record>>) {
    let mut taken = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut taken, MAX_GROUP).await > 0 {
        metrics::histogram!("inbound_sms_write_group_size", "records" => G::NAME)
            .record(taken.len() as f64);
        let records: Vec<&G::Record> = taken.iter().map(|p| &p.record).collect();
        match group.write(&pool, &records).await {
            Ok(new) => {
                for (pending, new) in taken.drain(..).zip(new) {
                    let _ = pending.stored.send(Ok(new));
                }
            }
            Err(error) => {
                tracing::warn!(records = G::NAME, count = taken.len(), error = %platform::errors::ErrorChain(&error), "group write failed; storing its records one by one");
                for pending in taken.drain(..) {
                    let alone = group.write(&pool, &[&pending.record]).await;
                    let _ = pending
                        .stored
                        .send(alone.map(|new| new.first().copied().unwrap_or(false)));
                }
            }
        }
    }
}
