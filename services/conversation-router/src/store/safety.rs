//! Safety records: the keyword list, incidents, holds and strikes.

use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::text::safety::Tier;

/// How long a strike counts (product-rules §9: strikes decay after 90 days).
pub const STRIKE_WINDOW: Duration = Duration::days(90);

/// The newest active keyword list.
#[tracing::instrument(skip_all)]
pub async fn keyword_rules(tx: &mut PgConnection) -> Result<Vec<(Tier, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select tier, phrase from safety_keyword_rules
         where active and list_version = (select max(list_version) from safety_keyword_rules)"
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Tier::from_name(&r.tier).map(|t| (t, r.phrase)))
        .collect())
}

/// A new incident.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    /// Who it is about (the sender of the text), if registered.
    pub user_id: Option<Uuid>,
    /// The sender's phone hash (for unregistered senders).
    pub phone_hash: &'a str,
    /// e.g. `safety_keyword` or `crisis`.
    pub incident_type: &'a str,
    /// 1 (low) to 4 (crisis).
    pub severity: i32,
    /// Structured details: tier, matched phrase, message SID — never the text.
    pub details: serde_json::Value,
}

/// Opens an incident, returning its id.
#[tracing::instrument(skip_all, fields(incident_type = incident.incident_type, severity = incident.severity))]
pub async fn open_incident(
    tx: &mut PgConnection,
    incident: &NewIncident<'_>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into safety_incidents (user_id, reporter_phone_hash, incident_type, severity, details)
         values ($1, $2, $3, $4, $5) returning id",
        incident.user_id,
        incident.phone_hash,
        incident.incident_type,
        incident.severity,
        incident.details
    )
    .fetch_one(&mut *tx)
    .await
}

/// Raises the user's hold to `state` (`soft_hold` or `hard_hold`; never lowers one), returning the
/// previous state.
#[tracing::instrument(skip_all, fields(state))]
pub async fn raise_hold(
    tx: &mut PgConnection,
    user_id: Uuid,
    state: &str,
    reason: &str,
    expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<String, sqlx::Error> {
    let previous = sqlx::query_scalar!(
        r#"select state::text as "state!" from safety_holds where user_id = $1 for update"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_else(|| "none".to_owned());
    if previous == "hard_hold" || (previous == "soft_hold" && state == "soft_hold") {
        return Ok(previous);
    }
    sqlx::query!(
        "insert into safety_holds (user_id, state, reason, applied_at, expires_at)
         values ($1, $2::text::safety_hold_state, $3, $4, $5)
         on conflict (user_id) do update set state = excluded.state, reason = excluded.reason,
           applied_at = excluded.applied_at, expires_at = excluded.expires_at, cleared_at = null",
        user_id,
        state,
        reason,
        now,
        expires_at
    )
    .execute(&mut *tx)
    .await?;
    Ok(previous)
}

/// Records a strike and returns how many strike points are active within the window.
#[tracing::instrument(skip_all, fields(strike_type))]
pub async fn add_strike(
    tx: &mut PgConnection,
    user_id: Uuid,
    strike_type: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query!(
        "insert into user_strikes (user_id, strike_type, points, reason, window_start, window_end)
         values ($1, $2, 1, $3, $4, $5)",
        user_id,
        strike_type,
        reason,
        now,
        now + STRIKE_WINDOW
    )
    .execute(&mut *tx)
    .await?;
    let active = sqlx::query_scalar!(
        r#"select coalesce(sum(points), 0)::bigint as "points!" from user_strikes
           where user_id = $1 and window_end > $2"#,
        user_id,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(active)
}

/// The user's current hold (`none`, `soft_hold`, `hard_hold`), counting an expired one as none.
#[tracing::instrument(skip_all)]
pub async fn hold_state(
    tx: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<String, sqlx::Error> {
    let state = sqlx::query_scalar!(
        r#"select state::text as "state!" from safety_holds
           where user_id = $1 and cleared_at is null and (expires_at is null or expires_at > $2)"#,
        user_id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(state.unwrap_or_else(|| "none".to_owned()))
}
