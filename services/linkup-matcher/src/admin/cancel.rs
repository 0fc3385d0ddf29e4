//! `CancelLinkup`: an admin cancels a broadcasting or locked LinkUp through the matcher's own
//! cancel path ([`crate::changes::cancel_with`]): invites closed, `linkup.canceled` and the
//! texts to those affected (and the initiator) in the outbox, all in one transaction with the
//! audit row. A LinkUp past canceling is refused and changes nothing, so nobody is texted twice.

use admin_auth::{Admin, AuditEntry, internal};
use proto::v1::CancelReason;
use rpc::admin::v1 as api;
use sqlx::PgPool;
use tonic::Status;
use uuid::Uuid;

use crate::Context;
use crate::changes::{self, Cancellation};
use crate::out::Cause;
use crate::store::linkups;

/// `linkups.canceled_reason` of an admin cancel: the admin's own words stay in the audit log,
/// out of the row and the published event.
const REASON_TEXT: &str = "admin";

/// Cancels LinkUp `id` for `why`.
pub(super) async fn cancel(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    id: Uuid,
    why: &str,
) -> Result<api::CancelLinkupResponse, Status> {
    let mut tx = pool.begin().await.map_err(internal)?;
    let linkup = linkups::lock_row(&mut tx, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such LinkUp"))?;
    let entry = AuditEntry::new(admin, "linkup.cancel", "linkup")
        .target(id)
        .reason(why)
        .with("previous_state", linkup.state.as_str());
    let cause = Cause::timer(linkup.correlation_id, ctx.clock.now());
    let cancellation = Cancellation {
        reason: CancelReason::Admin,
        reason_text: REASON_TEXT,
        by: None,
    };
    let told = if matches!(linkup.state.as_str(), "broadcasting" | "locked") {
        changes::cancel_with(&mut tx, ctx, &cause, &linkup, cancellation)
            .await
            .map_err(internal)?
    } else {
        None
    };
    let Some(told) = told else {
        // Nothing changed; the refusal is still on record.
        let entry = entry.with("outcome", "refused");
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        return Err(Status::failed_precondition(format!(
            "the LinkUp is {}; only a broadcasting or locked LinkUp can be canceled",
            linkup.state
        )));
    };
    let entry = entry.with("told", told.len());
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::warn!(admin = %admin.id, linkup_id = %id, told = told.len(), "an admin canceled a LinkUp");
    Ok(api::CancelLinkupResponse {
        linkup_id: id.to_string(),
        previous_state: linkup.state,
        told: u32::try_from(told.len()).unwrap_or(u32::MAX),
    })
}
