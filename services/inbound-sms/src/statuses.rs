//! Status callbacks stored in groups ([`crate::group`]; each outbound text brings two or three
//! callbacks): one outbox statement, one audit statement, one commit.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Error;
use crate::group::{Group, GroupWriter};
use crate::store::{self, StatusAudit};

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

/// Status callbacks as a [`Group`]: one outbox statement, one audit statement, one commit.
/// Wakes the relay like [`crate::received::Texts`].
#[derive(Debug, Clone, Default)]
pub struct Statuses {
    /// This service's relay.
    pub relay: Option<bus::RelayWaker>,
}

/// The handle status callbacks are stored through.
pub type StatusWriter = GroupWriter<StatusRecord>;

impl Group for Statuses {
    type Record = StatusRecord;
    const NAME: &'static str = "status callbacks";

    /// Stores `records` in one transaction: their outbox rows, then an audit row for each new
    /// one.
    #[tracing::instrument(skip_all, fields(callbacks = records.len()))]
    async fn write(&self, pool: &PgPool, records: &[&StatusRecord]) -> Result<Vec<bool>, Error> {
        let rows: Vec<&bus::outbox::OutboxRow> = records.iter().map(|r| &r.outbox).collect();
        let mut tx = pool.begin().await?;
        let new =
            bus::outbox::enqueue_many(&mut tx, &rows, bus::Notify::by(self.relay.as_ref())).await?;
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
        bus::wake::after_commit(self.relay.as_ref()).await;
        Ok(new)
    }
}
