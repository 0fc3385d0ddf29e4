//! Inbound texts stored in groups ([`crate::group`]): one statement claims the group's
//! `MessageSid`s (with each sender's user and the audit rows), one stores their `sms.received`
//! events, one commit. A webhook is still answered only after its text is committed.

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;
use sqlx::PgPool;
use time::OffsetDateTime;
use twilio::webhook::InboundMessage;
use uuid::Uuid;

use crate::error::Error;
use crate::events::{self, Received};
use crate::group::{Group, GroupWriter};
use crate::store::{self, NewInbound};

/// One verified inbound text to store.
pub struct TextRecord {
    /// The webhook, typed.
    pub message: InboundMessage,
    /// Keyed hash of the sender.
    pub phone_hash: String,
    /// The body, encrypted with the `MessageSid` as associated data.
    pub body: crypto::EncryptedBody,
    /// `NumMedia`, checked.
    pub media_count: i32,
    /// The id carried through every event this text causes.
    pub correlation_id: Uuid,
    /// When the webhook arrived.
    pub received_at: OffsetDateTime,
    /// The audit row's payload (ids and counts only).
    pub audit: Value,
    /// The request's span: the event is prepared in it, so its trace continues through the bus.
    pub span: tracing::Span,
}

impl fmt::Debug for TextRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The message's Debug masks its numbers; the body stays sealed.
        f.debug_struct("TextRecord")
            .field("message", &self.message)
            .field("correlation_id", &self.correlation_id)
            .finish_non_exhaustive()
    }
}

/// Inbound texts as a [`Group`]: waking the relay after each commit when given a waker, else
/// by the outbox trigger's NOTIFY (`bus::wake`).
#[derive(Debug, Clone, Default)]
pub struct Texts {
    /// This service's relay.
    pub relay: Option<bus::RelayWaker>,
}

/// The handle inbound texts are stored through.
pub type TextWriter = GroupWriter<TextRecord>;

impl Group for Texts {
    type Record = TextRecord;
    const NAME: &'static str = "inbound texts";

    #[tracing::instrument(skip_all, fields(texts = records.len()))]
    async fn write(&self, pool: &PgPool, records: &[&TextRecord]) -> Result<Vec<bool>, Error> {
        // A SID twice in one group (a webhook retried at once): its first record claims it.
        let mut seen = HashSet::new();
        let first: Vec<bool> = records
            .iter()
            .map(|r| seen.insert(r.message.message_sid.as_str()))
            .collect();
        let claims: Vec<NewInbound<'_>> = records
            .iter()
            .zip(&first)
            .filter(|(_, first)| **first)
            .map(|(r, _)| new_inbound(r))
            .collect();
        let mut tx = pool.begin().await?;
        let claimed = store::claim_inbound(&mut tx, &claims).await?;
        let mut rows = Vec::with_capacity(claimed.len());
        let mut new = Vec::with_capacity(records.len());
        for (record, first) in records.iter().zip(first) {
            let claim = claimed.get(&record.message.message_sid).filter(|_| first);
            new.push(claim.is_some());
            if let Some(claim) = claim {
                let _in_request = record.span.enter();
                let envelope = events::sms_received(&Received {
                    message: &record.message,
                    phone_hash: &record.phone_hash,
                    user_id: claim.user_id,
                    body: &record.body,
                    correlation_id: record.correlation_id,
                    received_at: record.received_at,
                });
                rows.push(bus::outbox::OutboxRow::prepare(&envelope)?);
            }
        }
        let rows: Vec<&bus::outbox::OutboxRow> = rows.iter().collect();
        let stored =
            bus::outbox::enqueue_many(&mut tx, &rows, bus::Notify::by(self.relay.as_ref())).await?;
        if stored.iter().any(|stored| !stored) {
            // Only possible if a row was deleted after its event was published.
            tracing::warn!("sms.received was already in the outbox");
        }
        tx.commit().await?;
        bus::wake::after_commit(self.relay.as_ref()).await;
        Ok(new)
    }
}

fn new_inbound(r: &TextRecord) -> NewInbound<'_> {
    NewInbound {
        message_sid: &r.message.message_sid,
        from_e164: r.message.from.as_str(),
        to_e164: r.message.to.as_str(),
        phone_hash: &r.phone_hash,
        body: &r.body,
        media_count: r.media_count,
        correlation_id: r.correlation_id,
        audit: &r.audit,
    }
}
