//! The profile the interview fills, and the activity catalog it reads.

use serde_json::{Map, Value};
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::interview::profile::ProfileDoc;

/// A catalog activity.
#[derive(Debug, Clone)]
pub struct Activity {
    /// Catalog key, e.g. `board_games`.
    pub key: String,
    /// Name shown to people.
    pub display_name: String,
    /// Lower-case aliases people text.
    pub aliases: Vec<String>,
    /// Typical windows (morning, day, evening, weekend).
    pub typical_windows: Vec<String>,
}

/// The active activity catalog.
#[tracing::instrument(skip_all)]
pub async fn activities(tx: &mut PgConnection) -> Result<Vec<Activity>, sqlx::Error> {
    sqlx::query_as!(
        Activity,
        "select key, display_name, aliases, typical_windows from activities where active order by key"
    )
    .fetch_all(&mut *tx)
    .await
}

/// Loads the profile's documents, locking the row for this transaction.
#[tracing::instrument(skip_all)]
pub async fn load(tx: &mut PgConnection, user_id: Uuid) -> Result<ProfileDoc, sqlx::Error> {
    let row = sqlx::query!(
        "select fingerprint, activity_patterns, boundaries, preferences
         from profiles where user_id = $1 for update",
        user_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let object = |v: Value| match v {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Ok(ProfileDoc {
        fingerprint: object(row.fingerprint),
        activity_patterns: match row.activity_patterns {
            Value::Array(items) => items,
            _ => Vec::new(),
        },
        boundaries: object(row.boundaries),
        preferences: object(row.preferences),
    })
}

/// What one profile update writes besides the documents.
#[derive(Debug)]
pub struct Update<'a> {
    /// The interview step that caused it (profiles.last_interview_step).
    pub step: &'a str,
    /// The resulting `profile_state` label.
    pub state: &'a str,
    /// When the profile reached `complete_mvp` for the first time, if it just did.
    pub completed_at: Option<OffsetDateTime>,
    /// When it happened (the service clock).
    pub at: OffsetDateTime,
    /// The audit row's idempotency key (profile_events).
    pub idempotency_key: &'a str,
    /// The audit row's payload.
    pub audit: Value,
    /// The inbound message's correlation id.
    pub correlation_id: Option<Uuid>,
}

/// Writes the profile's documents and state, and its audit row (once per idempotency key).
#[tracing::instrument(skip_all, fields(step = update.step, state = update.state))]
pub async fn save(
    tx: &mut PgConnection,
    user_id: Uuid,
    doc: &ProfileDoc,
    update: &Update<'_>,
) -> Result<(), sqlx::Error> {
    let intent = doc
        .preferences
        .get("top_activity")
        .map(|key| serde_json::json!({ "activity_key": key }));
    sqlx::query!(
        "update profiles set fingerprint = $2, activity_patterns = $3, boundaries = $4,
                preferences = $5, active_intent = coalesce($6, active_intent),
                last_interview_step = $7, state = $8::text::profile_state,
                completed_at = coalesce(completed_at, $9), stale_at = null, last_updated_at = $10
         where user_id = $1",
        user_id,
        Value::Object(doc.fingerprint.clone()),
        Value::Array(doc.activity_patterns.clone()),
        Value::Object(doc.boundaries.clone()),
        Value::Object(doc.preferences.clone()),
        intent,
        update.step,
        update.state,
        update.completed_at,
        update.at
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into profile_events (user_id, event_type, source, payload, idempotency_key, correlation_id)
         values ($1, 'interview_answer', 'interview', $2, $3, $4) on conflict do nothing",
        user_id,
        update.audit,
        update.idempotency_key,
        update.correlation_id
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Pauses or resumes invites (`preferences.invites_paused`; the matcher skips paused people).
#[tracing::instrument(skip_all, fields(paused))]
pub async fn set_invites_paused(
    tx: &mut PgConnection,
    user_id: Uuid,
    paused: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update profiles set preferences = preferences || jsonb_build_object('invites_paused', $2::boolean)
         where user_id = $1",
        user_id,
        paused
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Marks up to `limit` complete profiles unchanged since before `unchanged_since` as stale (at
/// `now`), returning whom to prompt; rows other transactions hold are skipped.
#[tracing::instrument(skip_all)]
pub async fn claim_stale(
    tx: &mut PgConnection,
    unchanged_since: OffsetDateTime,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<crate::store::identity::Contact>, sqlx::Error> {
    sqlx::query_as!(
        crate::store::identity::Contact,
        "with due as (
           select p.id from profiles p join users u on u.id = p.user_id
           where p.stale_at is null and p.state in ('complete_mvp', 'complete_full')
             and p.last_updated_at < $1 and u.deleted_at is null
           order by p.last_updated_at limit $3 for update of p skip locked)
         update profiles p set state = 'stale', stale_at = $2
         from due, users u where p.id = due.id and u.id = p.user_id
         returning u.id, u.first_name, u.phone_e164, u.phone_hash",
        unchanged_since,
        now,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}
