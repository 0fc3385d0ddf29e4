//! Status callbacks stored in groups. Each outbound text brings two or three callbacks, each
//! stored before it is answered: one transaction apiece was three commits a text. A writer task
//! takes every callback waiting when it starts a group (never waiting for more) and stores
//! them together: one outbox statement, one audit statement, one commit. A failed group is
//! written again one callback at a time, so only a callback that fails on its own is answered
//! with an error.

use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::error::Error;
use crate::store::{self, StatusAudit};

/// Callbacks stored in one transaction at most.
const MAX_GROUP: usize = 64;
/// Callbacks waiting for the writer at most; more wait for a slot (backpressure on Twilio).
const QUEUE: usize = 1024;

/// One callback to store: its `sms.status_reported` outbox row and its audit row.
#[derive(Debug)]
pub struct StatusRecord {
    /// The event, prepared in the request's span (its trace continues through the bus).
    pub outbox: bus::outbox::OutboxRow,
    /// The recipient's phone hash, to name the user in the audit row.
    pub phone_hash: Option<String>,
    /// The audit row's payload (ids and the status; no number, no body).
    pub audit: Value,
    /// The callback's correlation id.
    pub correlation_id: Uuid,
}

struct Pending {
    record: StatusRecord,
    stored: oneshot::Sender<Result<bool, Error>>,
}

/// The handle requests store their callbacks through; cheap to clone.
#[derive(Debug, Clone)]
pub struct StatusWriter {
    queue: mpsc::Sender<Pending>,
}

impl StatusWriter {
    /// Starts the writer task on `pool`; it ends once every handle is dropped and the queue is
    /// empty, so requests in flight at shutdown are still stored and answered.
    pub fn spawn(pool: PgPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, waiting));
        Self { queue }
    }

    /// Stores `record` with the callbacks waiting alongside it; true when it was new, false
    /// for a callback stored before (a redelivery).
    ///
    /// # Errors
    /// The database's error, or [`Error::Unavailable`] when the writer is gone.
    pub async fn store(&self, record: StatusRecord) -> Result<bool, Error> {
        let (stored, answer) = oneshot::channel();
        self.queue
            .send(Pending { record, stored })
            .await
            .map_err(|_| Error::Unavailable)?;
        answer.await.map_err(|_| Error::Unavailable)?
    }
}

async fn run(pool: PgPool, mut waiting: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
        let records: Vec<&StatusRecord> = group.iter().map(|p| &p.record).collect();
        match write(&pool, &records).await {
            Ok(new) => {
                for (pending, new) in group.drain(..).zip(new) {
                    let _ = pending.stored.send(Ok(new));
                }
            }
            Err(error) => {
                tracing::warn!(callbacks = group.len(), error = %platform::errors::ErrorChain(&error), "status group failed; storing its callbacks one by one");
                for pending in group.drain(..) {
                    let alone = write(&pool, &[&pending.record]).await;
                    let _ = pending
                        .stored
                        .send(alone.map(|new| new.first().copied().unwrap_or(false)));
                }
            }
        }
    }
}

/// Stores `records` in one transaction: their outbox rows, then an audit row for each new one.
#[tracing::instrument(skip_all, fields(callbacks = records.len()))]
async fn write(pool: &PgPool, records: &[&StatusRecord]) -> Result<Vec<bool>, Error> {
    let rows: Vec<&bus::outbox::OutboxRow> = records.iter().map(|r| &r.outbox).collect();
    let mut tx = pool.begin().await?;
    let new = bus::outbox::enqueue_many(&mut tx, &rows).await?;
    let audits: Vec<StatusAudit<'_>> = records
        .iter()
        .zip(&new)
        .filter(|(_, new)| **new)
        .map(|(r, _)| StatusAudit {
            phone_hash: r.phone_hash.as_deref(),
            payload: &r.audit,
            correlation_id: r.correlation_id,
        })
        .collect();
    store::insert_status_audits(&mut tx, &audits).await?;
    tx.commit().await?;
    Ok(new)
}
