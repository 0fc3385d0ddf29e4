//! `DeleteUser`: ops delete an account on the person's request, through the same path as the
//! person's own DELETE ([`crate::deletion`]) but without texting them. Opt-out records stay.

use rpc::admin::v1 as api;
use sqlx::PgPool;
use tonic::Status;

use super::UserRef;
use crate::Context;
use crate::deletion::{self, DeletedBy};
use admin_auth::{Admin, AuditEntry, internal};

/// Deletes the account, audited as `user.delete` with the reason.
pub(super) async fn delete(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    user: UserRef<'_>,
    reason: &str,
) -> Result<api::DeleteUserResponse, Status> {
    let now = ctx.clock.now();
    let mut tx = pool.begin().await.map_err(internal)?;
    let (user_id, _) = user.resolve(&mut tx).await?;
    let cause = proto::Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        correlation_id: uuid::Uuid::now_v7().to_string(),
        occurred_at: Some(proto::timestamp::to_timestamp(now)),
        ..proto::Envelope::default()
    };
    let by = DeletedBy::Admin(admin.id);
    let deleted = deletion::delete_account(&mut tx, ctx, &cause, user_id, by)
        .await
        .map_err(internal)?;
    let entry = AuditEntry::new(admin, "user.delete", "user")
        .target(user_id)
        .reason(reason)
        .with("deleted", deleted);
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %user_id, deleted, "admin deleted an account");
    Ok(api::DeleteUserResponse {
        user_id: user_id.to_string(),
        already_deleted: !deleted,
    })
}
