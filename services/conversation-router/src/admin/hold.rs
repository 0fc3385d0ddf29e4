//! `SetHold`: an admin raises, lowers or clears a user's safety hold, announcing the change as
//! `SafetyHoldChanged` (reason `HOLD_REASON_ADMIN`, with the admin's id) like automatic holds.

use proto::v1::{HoldReason, SafetyHoldChanged, SafetyHoldState};
use rpc::admin::v1 as api;
use sqlx::PgPool;
use tonic::Status;

use super::UserRef;
use crate::Context;
use crate::events;
use crate::store::admin as store;
use admin_auth::{Admin, AuditEntry, Role, internal};

fn as_proto(state: &str) -> SafetyHoldState {
    match state {
        "soft_hold" => SafetyHoldState::SoftHold,
        "hard_hold" => SafetyHoldState::HardHold,
        _ => SafetyHoldState::None,
    }
}

/// Sets the hold, audited as `safety.set_hold`. Support may not lower a hard hold.
pub(super) async fn set(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    user: UserRef<'_>,
    state: &'static str,
    reason: &str,
) -> Result<api::SetHoldResponse, Status> {
    let now = ctx.clock.now();
    let mut tx = pool.begin().await.map_err(internal)?;
    let (user_id, phone_hash) = user.resolve(&mut tx).await?;
    let previous = store::set_hold(&mut tx, user_id, state, reason, admin.id, now)
        .await
        .map_err(internal)?;
    if previous == "hard_hold"
        && state != "hard_hold"
        && let Err(refused) = admin.require(Role::OPERATORS, "lower a hard hold")
    {
        // Roll the change back, then record the refusal.
        tx.rollback().await.map_err(internal)?;
        let entry = AuditEntry::new(admin, "safety.set_hold", "user")
            .target(user_id)
            .reason(reason)
            .with("previous", previous)
            .with("state", state);
        admin_auth::audit_denied(pool, entry).await;
        return Err(refused);
    }
    if previous != state {
        let cause = proto::Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            correlation_id: uuid::Uuid::now_v7().to_string(),
            occurred_at: Some(proto::timestamp::to_timestamp(now)),
            ..proto::Envelope::default()
        };
        let fact = SafetyHoldChanged {
            user_id: user_id.to_string(),
            state: as_proto(state).into(),
            previous_state: as_proto(&previous).into(),
            reason: HoldReason::Admin.into(),
            admin_user_id: admin.id.to_string(),
            changed_at: Some(proto::timestamp::to_timestamp(now)),
            ..SafetyHoldChanged::default()
        };
        let key = format!("hold:admin:{}:{state}", cause.event_id);
        events::publish(&mut tx, &cause, fact, key, &phone_hash)
            .await
            .map_err(internal)?;
    }
    let entry = AuditEntry {
        admin_user_id: admin.id,
        action: "safety.set_hold",
        target_type: "user",
        target_id: Some(user_id),
        reason: Some(reason),
        payload: serde_json::json!({
            "role": admin.role.as_str(), "previous": previous, "state": state,
        }),
    };
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %user_id, previous, state, "admin set a hold");
    Ok(api::SetHoldResponse {
        user_id: user_id.to_string(),
        previous_state: previous,
        state: state.to_owned(),
    })
}
