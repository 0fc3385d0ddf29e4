//! The gate's SQL: tokens and the audit log.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::AuditEntry;

/// The live (unrevoked) token with this hash and its admin: `(token_id, admin_user_id, role)`.
/// Goes through `admin_authenticate` (migration 20261130000500), which also stamps the token's
/// `last_used_at`; service roles cannot read `admin_tokens` themselves.
#[tracing::instrument(skip_all)]
pub async fn admin_by_token_hash(
    tx: &mut PgConnection,
    token_sha256: &str,
) -> Result<Option<(Uuid, Uuid, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select token_id as "token_id!", admin_user_id as "admin_user_id!", role as "role!"
             from admin_authenticate($1)"#,
        token_sha256
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.token_id, r.admin_user_id, r.role)))
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
