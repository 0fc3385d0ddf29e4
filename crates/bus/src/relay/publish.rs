//! Sending a batch's rows to JetStream: one publish in flight per subject at a time (so a
//! subject's rows keep their order), every other subject's alongside.

use std::collections::VecDeque;

use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishAckFuture;

use super::Relay;
use crate::BusError;

impl Relay {
    /// Publishes `rows` (in id order) and returns the ids JetStream acknowledged, and the rows
    /// that failed (the first failure first; each gets its attempt and error recorded). Rows of
    /// different subjects are in flight together; a row waits for the previous row of its own
    /// subject to be acknowledged, so each subject (a partition, which is what consumers order
    /// by) keeps id order even when a publish fails: after a failure nothing more is sent, and
    /// the failed row's later rows stay unpublished behind it.
    pub(super) async fn publish_rows(
        &self,
        rows: Vec<OutboxRow>,
    ) -> (Vec<i64>, Vec<(i64, BusError)>) {
        let mut acked = Vec::with_capacity(rows.len());
        let mut in_flight: VecDeque<(i64, String, PublishAckFuture)> = VecDeque::new();
        let mut failure = None;
        for row in rows {
            if in_flight
                .iter()
                .any(|(_, subject, _)| *subject == row.subject)
            {
                // Settle in order up to this subject's previous row.
                while let Some((id, subject, ack)) = in_flight.pop_front() {
                    let same = subject == row.subject;
                    match ack.await {
                        Ok(_) => acked.push(id),
                        Err(e) => failure = Some((id, BusError::publish(&subject, e))),
                    }
                    if same || failure.is_some() {
                        break;
                    }
                }
                if failure.is_some() {
                    break;
                }
            }
            let sent = self
                .js
                .publish_with_headers(row.subject.clone(), row.headers, row.payload.into())
                .await;
            match sent {
                Ok(ack) => in_flight.push_back((row.id, row.subject, ack)),
                Err(e) => {
                    failure = Some((row.id, BusError::publish(&row.subject, e)));
                    break;
                }
            }
        }
        // Rows of other subjects already sent may still be acknowledged after a failure.
        let mut failures: Vec<(i64, BusError)> = failure.into_iter().collect();
        for (id, subject, ack) in in_flight {
            match ack.await {
                Ok(_) => acked.push(id),
                Err(e) => failures.push((id, BusError::publish(&subject, e))),
            }
        }
        (acked, failures)
    }
}

/// One row on its way to JetStream.
pub(super) struct OutboxRow {
    pub(super) id: i64,
    pub(super) subject: String,
    pub(super) headers: HeaderMap,
    pub(super) payload: Vec<u8>,
}

/// The NATS headers of an outbox row: the dedupe id (unique across producers) and the stored
/// trace context.
pub(super) fn nats_headers(
    producer: &str,
    idempotency_key: &str,
    stored: &serde_json::Value,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("{producer}:{idempotency_key}").as_str(),
    );
    if let Some(map) = stored.as_object() {
        for (name, value) in map {
            if let Some(value) = value.as_str() {
                headers.insert(name.as_str(), value);
            }
        }
    }
    headers
}
