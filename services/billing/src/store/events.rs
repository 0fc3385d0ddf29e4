//! `stripe_events`: every event stored once, processed later, failures kept for a retry.

use serde_json::Value;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A stored event claimed for processing.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Our row id.
    pub id: Uuid,
    /// `evt_...`
    pub stripe_event_id: String,
    /// The raw event.
    pub payload: Value,
}

/// Stores an event unless its id is already stored; true if this call stored it.
#[tracing::instrument(skip_all, fields(stripe_event_id, event_type))]
pub async fn insert(
    conn: &mut PgConnection,
    stripe_event_id: &str,
    event_type: &str,
    payload: &Value,
    received_at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "insert into stripe_events (stripe_event_id, event_type, payload, received_at)
         values ($1, $2, $3, $4) on conflict (stripe_event_id) do nothing",
        stripe_event_id,
        event_type,
        payload,
        received_at
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` events waiting to be processed (not processed, not failed), oldest first.
#[tracing::instrument(skip_all)]
pub async fn pending(conn: &mut PgConnection, limit: i64) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select id from stripe_events
         where processed_at is null and processing_error is null
         order by received_at, id limit $1",
        limit
    )
    .fetch_all(&mut *conn)
    .await
}

/// Locks an unprocessed event for this transaction; `None` if processed or held by another worker.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn claim(conn: &mut PgConnection, id: Uuid) -> Result<Option<Stored>, sqlx::Error> {
    sqlx::query_as!(
        Stored,
        "select id, stripe_event_id, payload from stripe_events
         where id = $1 and processed_at is null
         for update skip locked",
        id
    )
    .fetch_optional(&mut *conn)
    .await
}

/// Marks an event processed (clearing an earlier error).
#[tracing::instrument(skip_all, fields(%id))]
pub async fn mark_processed(
    conn: &mut PgConnection,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update stripe_events set processed_at = $2, processing_error = null where id = $1",
        id,
        at
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records why processing failed; the event stays stored and unprocessed.
#[tracing::instrument(skip_all, fields(%id))]
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update stripe_events set processing_error = $2 where id = $1 and processed_at is null",
        id,
        error
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Clears the error of failed events (all of them, or the one `stripe_event_id`) so they are
/// processed again; returns how many.
#[tracing::instrument(skip_all)]
pub async fn release_failed(
    conn: &mut PgConnection,
    stripe_event_id: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "update stripe_events set processing_error = null
         where processed_at is null and processing_error is not null
           and ($1::text is null or stripe_event_id = $1)",
        stripe_event_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Clears the error of events that failed with an error starting with `prefix`; returns how many.
#[tracing::instrument(skip_all)]
pub async fn release_transient(conn: &mut PgConnection, prefix: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "update stripe_events set processing_error = null
         where processed_at is null and starts_with(processing_error, $1)",
        prefix
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
