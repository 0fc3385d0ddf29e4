//! The admin APIs' shared gate. Every service that serves a `josh.admin.v1` gRPC service uses it:
//!
//! ```ignore
//! let admin = admin_auth::authorize(&self.pool, request.metadata(), Role::OPERATORS, "sender.pause").await?;
//! let why = admin_auth::require_reason(&request.get_ref().reason)?;
//! let mut tx = self.pool.begin().await.map_err(admin_auth::internal)?;
//! // ... the change ...
//! admin_auth::audit(&mut tx, &AuditEntry::new(&admin, "sender.pause", "sender").reason(why)).await.map_err(admin_auth::internal)?;
//! tx.commit().await.map_err(admin_auth::internal)?;
//! ```
//!
//! - [`authenticate`]: `authorization: Bearer <token>` -> [`Admin`] (a token is looked up by its
//!   SHA-256 in `admin_tokens`; a missing, unknown or revoked token is `UNAUTHENTICATED`).
//! - [`authorize`]: [`authenticate`] plus a role check (`PERMISSION_DENIED`, audited as denied).
//!   An unauthenticated call cannot be attributed: it is logged and counted, not audited.
//! - [`audit`]: one `admin_audit_log` row, in the caller's transaction.
//! - [`authorize_view`] / [`authorize_export`]: views of a person's private data (message
//!   bodies, exports) for [`Role::PERSONAL_DATA`] only, with a reason; refusals audited.
//!
//! The service's database role needs EXECUTE on `admin_authenticate(text)` and INSERT on
//! `admin_audit_log` (every service role has both, migration 20261130000500).
//!
//! Tests of an admin API use `admin_auth::testing` (cargo feature `test-support`, as a dev-dependency).

mod audit;
mod gate;
mod personal;
mod role;
pub mod store;
#[cfg(feature = "test-support")]
pub mod testing;

pub use audit::{AuditEntry, audit};
pub use gate::{
    UNAUTHENTICATED_METRIC, audit_denied, authenticate, authorize, internal, require_reason,
    token_sha256,
};
pub use personal::{EXPORT_ACTION, authorize_export, authorize_view};
pub use role::{Admin, Role};
