//! `admin_audit_log` rows: who did what to which, why, and the outcome.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::Admin;

/// One admin_audit_log row.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// Who.
    pub admin_user_id: Uuid,
    /// What, e.g. `user.timeline`, `safety.set_hold`, `region.open`.
    pub action: &'a str,
    /// What kind of thing was acted on, e.g. `user`, `region`, `sender`.
    pub target_type: &'a str,
    /// Which.
    pub target_id: Option<Uuid>,
    /// Why (required for changes).
    pub reason: Option<&'a str>,
    /// The outcome, never message bodies.
    pub payload: serde_json::Value,
}

impl<'a> AuditEntry<'a> {
    /// An entry by `admin` with `{"role": ...}` as its payload.
    pub fn new(admin: &Admin, action: &'a str, target_type: &'a str) -> Self {
        Self {
            admin_user_id: admin.id,
            action,
            target_type,
            target_id: None,
            reason: None,
            payload: serde_json::json!({ "role": admin.role.as_str() }),
        }
    }

    /// Names the target.
    #[must_use]
    pub fn target(mut self, id: Uuid) -> Self {
        self.target_id = Some(id);
        self
    }

    /// Records why.
    #[must_use]
    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Adds `key: value` to the payload.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let Some(map) = self.payload.as_object_mut() {
            map.insert(key.to_owned(), value.into());
        }
        self
    }
}

/// Appends an audit row in the caller's transaction.
///
/// # Errors
/// The database error.
pub async fn audit(tx: &mut PgConnection, entry: &AuditEntry<'_>) -> Result<(), sqlx::Error> {
    crate::store::insert_audit(tx, entry).await
}
