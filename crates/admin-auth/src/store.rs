//! The gate's SQL: tokens and the audit log.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::AuditEntry;

/// The admin a live (unrevoked) token belongs to: `(admin_user_id, role)`.
#[tracing::instrument(skip_all)]
pub async fn admin_by_token_hash(
    tx: &mut PgConnection,
    token_sha256: &str,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let row = sqlx::query!(
        "select u.id, u.role from admin_tokens t join admin_users u on u.id = t.admin_user_id
         where t.token_sha256 = $1 and t.revoked_at is null",
        token_sha256
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.id, r.role)))
}

/// Appends an audit row.
#[tracing::instrument(skip_all, fields(action = entry.action))]
pub async fn insert_audit(
    tx: &mut PgConnection,
    entry: &AuditEntry<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into admin_audit_log (admin_user_id, action, target_type, target_id, reason, payload)
         values ($1, $2, $3, $4, $5, $6)",
        entry.admin_user_id,
        entry.action,
        entry.target_type,
        entry.target_id,
        entry.reason,
        entry.payload
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
