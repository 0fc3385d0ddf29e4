//! The transactional inbox: a consumer records each event id it handled in the same
//! transaction as the handler's effects, so a redelivered event has no second effect.

use std::future::Future;

use proto::Envelope;
use sqlx::PgConnection;

use crate::wake::Notify;

/// Why a handler failed, which decides what happens to the message.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A transient failure (database busy, dependency down): retried with backoff, then
    /// dead-lettered after the consumer's last delivery.
    #[error("handler failed (will retry)")]
    Retry(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The message can never succeed (invalid content): dead-lettered at once.
    #[error("handler rejected the message")]
    Reject(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl HandlerError {
    /// A retryable failure from any error.
    pub fn retry(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Retry(Box::new(error))
    }

    /// A permanent failure from any error.
    pub fn reject(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Reject(Box::new(error))
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(error: sqlx::Error) -> Self {
        Self::retry(error)
    }
}

/// Handles one message inside the consumer's transaction. Every effect must go through `tx`
/// (state changes and outbox rows alike) so it commits together with the inbox record.
pub trait Handler: Send + Sync + 'static {
    /// Handles `envelope`. Returning an error rolls the transaction back.
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        envelope: &'a Envelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;

    /// Handles `envelopes` (new to the inbox, in delivery order) in one transaction; consumers
    /// configured with a batch ([`crate::ConsumerSpec::with_batch`]) call this once per batch.
    /// The default handles each in turn. Override it to do a batch's work in fewer statements:
    /// the effects must be those of handling the envelopes one at a time, in order. An error
    /// rolls the whole batch back, and the runner then hands each envelope to [`Handler::handle`]
    /// on its own.
    fn handle_batch<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        envelopes: &'a [&'a Envelope],
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a {
        async move {
            for envelope in envelopes {
                self.handle(&mut *tx, envelope).await?;
            }
            Ok(())
        }
    }

    /// Called after the runner committed `envelopes`' effects (in delivery order; a duplicate
    /// too, since its first delivery may have committed with the answer lost), e.g. to wake an
    /// in-process worker for what the transaction stored: the runner's transactions send no
    /// Postgres NOTIFY when it wakes the service's relay itself ([`crate::Notify::ByCaller`]).
    /// Not called by [`crate::deliver`]. The default does nothing.
    fn committed<'a>(
        &'a self,
        envelopes: &'a [&'a Envelope],
    ) -> impl Future<Output = ()> + Send + 'a {
        let _ = envelopes;
        async {}
    }

    /// Called once `envelope` was dead-lettered (the handler gave up on it), outside any
    /// transaction, e.g. to tell the person their text could not be handled yet. It must not
    /// mark the event handled: a replay from the dead-letter subject handles it for real.
    /// Failures are the hook's to log. The default does nothing.
    fn dead_lettered<'a>(
        &'a self,
        pool: &'a sqlx::PgPool,
        envelope: &'a Envelope,
    ) -> impl Future<Output = ()> + Send + 'a {
        let _ = (pool, envelope);
        async {}
    }
}

/// Records that `consumer` handles `envelope`, returning false when it already did (the row's
/// unique key also makes a concurrent duplicate wait for the first one's outcome). `notify`
/// sets, for the rest of the transaction, who tells relays about its outbox rows.
///
/// # Errors
/// Fails when the insert fails or the event id is not a UUID.
#[tracing::instrument(skip_all, fields(consumer, event_id = %envelope.event_id))]
pub async fn claim(
    tx: &mut PgConnection,
    consumer: &str,
    envelope: &Envelope,
    notify: Notify,
) -> Result<bool, HandlerError> {
    let event_id = uuid::Uuid::parse_str(&envelope.event_id).map_err(HandlerError::reject)?;
    let inserted = sqlx::query!(
        "insert into event_inbox (consumer, event_id, event_type)
         select $1, $2, $3 where set_config('josh.notify', $4, true) is not null
         on conflict do nothing",
        consumer,
        event_id,
        envelope.r#type,
        notify.setting()
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Records that `consumer` handles each of `envelopes` in one statement, returning for each
/// whether it is new: false when it was handled before, or for a repeat of an earlier envelope
/// of the same batch (its first appearance is the one to handle). `notify` as for [`claim`].
///
/// # Errors
/// Fails when the insert fails or an event id is not a UUID.
#[tracing::instrument(skip_all, fields(consumer, events = envelopes.len()))]
pub async fn claim_many(
    tx: &mut PgConnection,
    consumer: &str,
    envelopes: &[&Envelope],
    notify: Notify,
) -> Result<Vec<bool>, HandlerError> {
    let mut ids = Vec::with_capacity(envelopes.len());
    let mut types = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        ids.push(uuid::Uuid::parse_str(&envelope.event_id).map_err(HandlerError::reject)?);
        types.push(envelope.r#type.clone());
    }
    let claimed = sqlx::query_scalar!(
        "insert into event_inbox (consumer, event_id, event_type)
         select $1, e.id, e.type from unnest($2::uuid[], $3::text[]) as e(id, type)
          where set_config('josh.notify', $4, true) is not null
         on conflict do nothing
         returning event_id",
        consumer,
        &ids,
        &types,
        notify.setting()
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut claimed: std::collections::HashSet<uuid::Uuid> = claimed.into_iter().collect();
    Ok(ids.iter().map(|id| claimed.remove(id)).collect())
}

/// Deletes inbox records older than `retention` (well past the stream's own retention, after
/// which no redelivery can arrive).
///
/// # Errors
/// Fails when the delete fails.
pub async fn prune(
    pool: &sqlx::PgPool,
    consumer: &str,
    retention: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    let cutoff = time::OffsetDateTime::now_utc() - retention;
    let deleted = sqlx::query!(
        "delete from event_inbox where consumer = $1 and handled_at < $2",
        consumer,
        cutoff
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(deleted)
}
