//! The conversation pointer and the profile the interview fills.

use sqlx::PgConnection;
use uuid::Uuid;

/// Where a user's conversation stands.
#[derive(Debug, Clone)]
pub struct Session {
    /// `conversation_mode` label.
    pub mode: String,
    /// The step within the mode, e.g. `interview:activity_01`.
    pub state_token: String,
}

/// The user's conversation pointer.
#[tracing::instrument(skip_all)]
pub async fn session(tx: &mut PgConnection, user_id: Uuid) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as!(
        Session,
        r#"select mode::text as "mode!", state_token from conversation_sessions where user_id = $1 for update"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Moves the conversation to `state_token` (same mode), remembering the inbound message.
#[tracing::instrument(skip_all, fields(state_token))]
pub async fn set_step(
    tx: &mut PgConnection,
    user_id: Uuid,
    state_token: &str,
    message_sid: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_sessions set state_token = $2, last_inbound_message_sid = $3 where user_id = $1",
        user_id,
        state_token,
        message_sid
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

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

/// Records an interview answer: the profile change, its audit event (once per idempotency key)
/// and the step reached.
#[tracing::instrument(skip_all, fields(step))]
pub async fn record_answer(
    tx: &mut PgConnection,
    user_id: Uuid,
    step: &str,
    change: &ProfileChange,
    idempotency_key: &str,
) -> Result<(), sqlx::Error> {
    match change {
        ProfileChange::ActivityPatterns(patterns) => sqlx::query!(
            "update profiles set activity_patterns = $2, last_interview_step = $3,
                    state = case when state = 'empty' then 'partial'::profile_state else state end
             where user_id = $1",
            user_id,
            patterns,
            step
        ),
        ProfileChange::ActiveIntent(intent) => sqlx::query!(
            "update profiles set active_intent = $2, last_interview_step = $3 where user_id = $1",
            user_id,
            intent,
            step
        ),
    }
    .execute(&mut *tx)
    .await?;
    let payload = serde_json::json!({ "step": step, "change": change.describe() });
    sqlx::query!(
        "insert into profile_events (user_id, event_type, source, payload, idempotency_key)
         values ($1, 'interview_answer', 'interview', $2, $3) on conflict do nothing",
        user_id,
        payload,
        idempotency_key
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// One change an interview answer makes.
#[derive(Debug, Clone)]
pub enum ProfileChange {
    /// `profiles.activity_patterns` replaced.
    ActivityPatterns(serde_json::Value),
    /// `profiles.active_intent` replaced.
    ActiveIntent(serde_json::Value),
}

impl ProfileChange {
    /// The audit payload of the change.
    fn describe(&self) -> serde_json::Value {
        match self {
            Self::ActivityPatterns(v) => serde_json::json!({ "activity_patterns": v }),
            Self::ActiveIntent(v) => serde_json::json!({ "active_intent": v }),
        }
    }

    /// The profile field it changes.
    pub fn field(&self) -> &'static str {
        match self {
            Self::ActivityPatterns(_) => "activity_patterns",
            Self::ActiveIntent(_) => "active_intent",
        }
    }
}
