//! Authentication and authorization of one admin request.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::{Admin, AuditEntry, Role, store};

/// Counter of admin calls refused before anyone could be named (see [`authenticate`]).
pub const UNAUTHENTICATED_METRIC: &str = "admin_unauthenticated_total";

/// The hex SHA-256 of a token, as stored in `admin_tokens.token_sha256`.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Authenticates the request's `authorization: Bearer <token>`.
///
/// A call refused here cannot be attributed to an admin, so it leaves no `admin_audit_log` row
/// (a row per unauthenticated call would also let anyone on the network grow the audit log at
/// will): it is logged (`warn`, with the action when known) and counted in
/// `admin_unauthenticated_total{action, reason}` for alerting.
///
/// # Errors
/// `UNAUTHENTICATED` for a missing, malformed, unknown or revoked token; `INTERNAL` when the
/// database fails.
pub async fn authenticate(pool: &PgPool, metadata: &MetadataMap) -> Result<Admin, Status> {
    authenticate_for(pool, metadata, "unspecified").await
}

#[tracing::instrument(skip_all, fields(action))]
async fn authenticate_for(
    pool: &PgPool,
    metadata: &MetadataMap,
    action: &str,
) -> Result<Admin, Status> {
    let Some(token) = metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Err(unauthenticated(action, "missing", "missing bearer token"));
    };
    let mut conn = pool.acquire().await.map_err(internal)?;
    let found = store::admin_by_token_hash(&mut conn, &token_sha256(token))
        .await
        .map_err(internal)?;
    let Some((token_id, id, role)) = found else {
        return Err(unauthenticated(
            action,
            "unknown",
            "unknown or revoked token",
        ));
    };
    let role = Role::parse(&role).ok_or_else(|| Status::permission_denied("unknown admin role"))?;
    Ok(Admin { id, role, token_id })
}

fn unauthenticated(action: &str, reason: &'static str, message: &'static str) -> Status {
    tracing::warn!(action, reason, "unauthenticated admin call refused");
    metrics::counter!(UNAUTHENTICATED_METRIC, "action" => action.to_owned(), "reason" => reason)
        .increment(1);
    Status::unauthenticated(message)
}

/// [`authenticate`]s the request and checks the caller's role is one of `allowed` for `action`
/// (an audit action name such as `sender.pause`). A refusal for the role is audited: an
/// `admin_audit_log` row with the action, the admin, target type `request` and
/// `{"role": .., "outcome": "denied"}`.
///
/// # Errors
/// As [`authenticate`]; `PERMISSION_DENIED` for a role not in `allowed`.
#[tracing::instrument(skip_all, fields(action))]
pub async fn authorize(
    pool: &PgPool,
    metadata: &MetadataMap,
    allowed: &[Role],
    action: &str,
) -> Result<Admin, Status> {
    let admin = authenticate_for(pool, metadata, action).await?;
    if let Err(refused) = admin.require(allowed, action) {
        audit_denied(pool, AuditEntry::new(&admin, action, "request")).await;
        return Err(refused);
    }
    Ok(admin)
}

/// Writes `entry` with `"outcome": "denied"` in its own transaction (the refused change, if
/// any, was rolled back). A failure to write is logged, not returned: the caller is refusing
/// anyway.
pub async fn audit_denied(pool: &PgPool, entry: AuditEntry<'_>) {
    let entry = entry.with("outcome", "denied");
    let written = async {
        let mut conn = pool.acquire().await?;
        store::insert_audit(&mut conn, &entry).await
    };
    if let Err(error) = written.await {
        tracing::error!(
            action = entry.action,
            error = %platform::errors::ErrorChain(&error),
            "cannot audit a refused admin call"
        );
    }
}

/// A required reason, trimmed.
///
/// # Errors
/// `INVALID_ARGUMENT` when it is blank.
pub fn require_reason(reason: &str) -> Result<&str, Status> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Status::invalid_argument("a reason is required"));
    }
    Ok(reason)
}

/// A failure (usually the database's), logged with its chain and reported without details.
pub fn internal(error: impl std::error::Error + 'static) -> Status {
    tracing::error!(error = %platform::errors::ErrorChain(&error), "admin API failed");
    Status::internal("internal error")
}
