//! Status callbacks stored in groups ([`crate::group`]; each outbound text brings two or three
//! callbacks): one audit statement, one outbox row for the whole group, one commit.

use proto::v1::SmsStatusReported;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::Error;
use crate::events;
use crate::group::{Group, GroupWriter};
use crate::store::{self, StatusAudit};

/// One callback to store: its audit row and, when it is new, its report in the group's
/// `sms.statuses_reported` event.
#[derive(Debug)]
pub struct StatusRecord {
    /// The audit row's id, derived from (SID, status): what makes a redelivery a duplicate.
    pub audit_id: Uuid,
    /// What the group's event says of this callback.
    pub report: SmsStatusReported,
    /// The recipient's phone hash, to name the user in the audit row.
    pub phone_hash: Option<String>,
    /// The audit row's payload (ids and the status; no number, no body).
    pub audit: Value,
    /// The callback's correlation id.
    pub correlation_id: Uuid,
}

/// Status callbacks as a [`Group`]: one audit statement, one outbox row, one commit. Wakes the
/// relay like [`crate::received::Texts`].
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

    /// Stores `records` in one transaction: the audit row of each (SID, status) not stored
    /// before, then one `sms.statuses_reported` outbox row with their reports (none when every
    /// callback was a redelivery). A group carries one event, not one per callback: the
    /// callbacks are most of a text's events (three of six with a Messaging Service), and each
    /// event costs an outbox row, its publication, a delivery, an inbox row and an ack.
    #[tracing::instrument(skip_all, fields(callbacks = records.len()))]
    async fn write(&self, pool: &PgPool, records: &[&StatusRecord]) -> Result<Vec<bool>, Error> {
        let audits: Vec<StatusAudit<'_>> = records
            .iter()
            .map(|r| StatusAudit {
                id: r.audit_id,
                phone_hash: r.phone_hash.as_deref(),
                payload: &r.audit,
                correlation_id: r.correlation_id,
            })
            .collect();
        let mut tx = pool.begin().await?;
        let new = store::insert_status_audits(&mut tx, &audits).await?;
        let fresh: Vec<&StatusRecord> = records
            .iter()
            .zip(&new)
            .filter_map(|(r, new)| new.then_some(*r))
            .collect();
        if let Some(first) = fresh.first() {
            let reports: Vec<SmsStatusReported> = fresh.iter().map(|r| r.report.clone()).collect();
            let envelope = events::sms_statuses_reported(reports, first.correlation_id);
            let notify = bus::Notify::by(self.relay.as_ref());
            bus::outbox::enqueue_many(
                &mut tx,
                &[&bus::outbox::OutboxRow::prepare(&envelope)?],
                notify,
            )
            .await?;
        }
        tx.commit().await?;
        bus::wake::after_commit(self.relay.as_ref()).await;
        Ok(new)
    }
}
