//! `UserTimeline`: a user's current state and their domain and profile events (never bodies).

use rpc::admin::v1 as api;
use sqlx::PgPool;
use tonic::Status;

use super::UserRef;
use crate::Context;
use crate::store::{admin as store, safety};
use admin_auth::{Admin, AuditEntry, internal};

/// How many events the view shows at most.
const TIMELINE_LIMIT: i64 = 500;

/// The view, audited as `user.timeline`.
pub(super) async fn view(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    user: UserRef<'_>,
) -> Result<api::UserTimelineResponse, Status> {
    let now = ctx.clock.now();
    let mut tx = pool.begin().await.map_err(internal)?;
    let (user_id, _) = user.resolve(&mut tx).await?;
    let summary = store::user_summary(&mut tx, user_id, now)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such user"))?;
    let hold_state = safety::hold_state(&mut tx, user_id, now)
        .await
        .map_err(internal)?;
    let events = store::timeline(&mut tx, user_id, TIMELINE_LIMIT)
        .await
        .map_err(internal)?;
    let entry = AuditEntry {
        admin_user_id: admin.id,
        action: "user.timeline",
        target_type: "user",
        target_id: Some(user_id),
        reason: None,
        payload: serde_json::json!({ "role": admin.role.as_str(), "events": events.len() }),
    };
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %user_id, "admin viewed a user's timeline");
    let hold_reason = if hold_state == "none" {
        String::new()
    } else {
        summary.hold_reason.unwrap_or_default()
    };
    Ok(api::UserTimelineResponse {
        user_id: user_id.to_string(),
        state: summary.state,
        region: summary.region.unwrap_or_default(),
        region_membership: summary.membership.unwrap_or_default(),
        profile_state: summary.profile_state.unwrap_or_default(),
        session_mode: summary.session_mode.unwrap_or_default(),
        hold_state,
        hold_reason,
        active_strike_points: summary.strike_points,
        incidents: summary.incidents,
        reports_against: summary.reports,
        timeline: events
            .into_iter()
            .map(|(at, source, event_type, detail)| api::TimelineEntry {
                at: Some(proto::timestamp::to_timestamp(at)),
                source,
                event_type,
                detail,
            })
            .collect(),
    })
}
