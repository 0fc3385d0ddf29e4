//! Authentication and authorization of one admin request.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::{Admin, Role, store};

/// The hex SHA-256 of a token, as stored in `admin_tokens.token_sha256`.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Authenticates the request's `authorization: Bearer <token>`.
///
/// # Errors
/// `UNAUTHENTICATED` for a missing, malformed, unknown or revoked token; `INTERNAL` when the
/// database fails.
#[tracing::instrument(skip_all)]
pub async fn authenticate(pool: &PgPool, metadata: &MetadataMap) -> Result<Admin, Status> {
    let token = metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Status::unauthenticated("missing bearer token"))?;
    let mut conn = pool.acquire().await.map_err(internal)?;
    let found = store::admin_by_token_hash(&mut conn, &token_sha256(token))
        .await
        .map_err(internal)?;
    let (id, role) = found.ok_or_else(|| Status::unauthenticated("unknown or revoked token"))?;
    let role = Role::parse(&role).ok_or_else(|| Status::permission_denied("unknown admin role"))?;
    Ok(Admin { id, role })
}

/// [`authenticate`]s the request and checks the caller's role is one of `allowed` for `action`
/// (an audit action name such as `sender.pause`).
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
    let admin = authenticate(pool, metadata).await?;
    admin.require(allowed, action)?;
    Ok(admin)
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
