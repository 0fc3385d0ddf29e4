//! The conversation pointer: each user's mode and step (conversation_sessions).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a user's conversation stands.
#[derive(Debug, Clone)]
pub struct Session {
    /// `conversation_mode` label.
    pub mode: String,
    /// The step within the mode, e.g. `interview:activity_01`.
    pub state_token: String,
    /// When the user last texted in this conversation (the service clock).
    pub last_inbound_at: Option<OffsetDateTime>,
    /// When a pending clarifier or dialog step expires.
    pub expires_at: Option<OffsetDateTime>,
    /// Invites awaiting a reply (see `invites::Waiting`).
    pub pending_invites: serde_json::Value,
}

/// The user's conversation pointer.
#[tracing::instrument(skip_all)]
pub async fn session(tx: &mut PgConnection, user_id: Uuid) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as!(
        Session,
        r#"select mode::text as "mode!", state_token, last_inbound_at, expires_at, pending_invites
           from conversation_sessions where user_id = $1 for update"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Moves the conversation to `state_token` (same mode).
#[tracing::instrument(skip_all, fields(state_token))]
pub async fn set_step(
    tx: &mut PgConnection,
    user_id: Uuid,
    state_token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_sessions set state_token = $2, expires_at = null where user_id = $1",
        user_id,
        state_token
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Moves the conversation to `mode` at `state_token`; `expires_at` bounds a pending dialog step.
#[tracing::instrument(skip_all, fields(mode, state_token))]
pub async fn set_mode(
    tx: &mut PgConnection,
    user_id: Uuid,
    mode: &str,
    state_token: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_sessions
         set mode = $2::text::conversation_mode, state_token = $3, expires_at = $4
         where user_id = $1",
        user_id,
        mode,
        state_token,
        expires_at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Remembers that the user texted now (for resume-after-a-gap and the dropout nudge).
#[tracing::instrument(skip_all)]
pub async fn touch(
    tx: &mut PgConnection,
    user_id: Uuid,
    message_sid: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_sessions
         set last_inbound_message_sid = $2, last_inbound_at = $3, nudged_at = null
         where user_id = $1",
        user_id,
        message_sid,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// An interview gone quiet.
#[derive(Debug)]
pub struct QuietInterview {
    /// The user.
    pub user_id: Uuid,
    /// For the greeting.
    pub first_name: String,
    /// Where to text.
    pub phone_e164: String,
    /// Partition key of the text.
    pub phone_hash: String,
    /// When they last texted.
    pub last_inbound_at: OffsetDateTime,
}

/// Locks up to `limit` interviews silent since before `silent_since`, not yet nudged, whose phone
/// has not opted out; rows other transactions hold are skipped.
#[tracing::instrument(skip_all)]
pub async fn claim_quiet_interviews(
    tx: &mut PgConnection,
    silent_since: OffsetDateTime,
    limit: i64,
) -> Result<Vec<QuietInterview>, sqlx::Error> {
    sqlx::query_as!(
        QuietInterview,
        r#"select s.user_id, u.first_name, u.phone_e164, u.phone_hash,
                  s.last_inbound_at as "last_inbound_at!"
           from conversation_sessions s
           join users u on u.id = s.user_id
           where s.mode = 'interviewing' and s.nudged_at is null
             and s.last_inbound_at < $1 and u.deleted_at is null
             and not exists (select 1 from phone_opt_outs o
                             where o.phone_hash = u.phone_hash and o.opted_out_at is not null)
           order by s.last_inbound_at
           limit $2
           for update of s skip locked"#,
        silent_since,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}

/// Records that the nudge for the current silence went out.
#[tracing::instrument(skip_all)]
pub async fn mark_nudged(
    tx: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_sessions set nudged_at = $2 where user_id = $1",
        user_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Replaces the invites awaiting a reply.
#[tracing::instrument(skip_all)]
pub async fn set_pending_invites(
    tx: &mut PgConnection,
    user_id: Uuid,
    pending: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update conversation_sessions set pending_invites = $2 where user_id = $1",
        user_id,
        pending
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
