//! Bearer-token authentication and role checks for the admin API.
//!
//! A token is looked up by its SHA-256 (only the hash is stored, in `admin_tokens`); a missing,
//! unknown or revoked token is `UNAUTHENTICATED`, a role without the right `PERMISSION_DENIED`.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tonic::Status;
use tonic::metadata::MetadataMap;
use uuid::Uuid;

use crate::store::admin as store;

/// An admin's role (`admin_users.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Looks people up; may raise holds but not clear a hard one.
    Support,
    /// Runs the service: holds, regions.
    Ops,
    /// Everything ops may do.
    Engineering,
}

impl Role {
    /// Parses `admin_users.role`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "support" => Some(Self::Support),
            "ops" => Some(Self::Ops),
            "engineering" => Some(Self::Engineering),
            _ => None,
        }
    }

    /// The label stored in `admin_users.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Support => "support",
            Self::Ops => "ops",
            Self::Engineering => "engineering",
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    /// `admin_users.id`.
    pub id: Uuid,
    /// Their role.
    pub role: Role,
}

impl Admin {
    /// `PERMISSION_DENIED` unless the caller's role is one of `allowed`.
    ///
    /// # Errors
    /// [`Status::permission_denied`] naming the action.
    pub fn require(&self, allowed: &[Role], action: &str) -> Result<(), Status> {
        if allowed.contains(&self.role) {
            Ok(())
        } else {
            tracing::warn!(admin = %self.id, role = self.role.as_str(), action, "admin action denied");
            Err(Status::permission_denied(format!(
                "role {} may not {action}",
                self.role.as_str()
            )))
        }
    }
}

/// The hex SHA-256 of a token, as stored in `admin_tokens.token_sha256`.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Authenticates the request's `authorization: Bearer <token>`.
///
/// # Errors
/// `UNAUTHENTICATED` for a missing, malformed, unknown or revoked token; `INTERNAL` when the
/// database fails.
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

/// A database failure, logged with its chain and reported without details.
pub(crate) fn internal(error: impl std::error::Error + 'static) -> Status {
    tracing::error!(error = %platform::errors::ErrorChain(&error), "admin API failed");
    Status::internal("internal error")
}
