//! Admin roles and the authenticated caller.

use tonic::Status;
use uuid::Uuid;

/// An admin's role (`admin_users.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Looks people up; may raise holds but not clear a hard one.
    Support,
    /// Runs the service: holds, regions, senders, dead letters.
    Ops,
    /// Everything ops may do.
    Engineering,
}

impl Role {
    /// Every role.
    pub const ANY: &'static [Role] = &[Role::Support, Role::Ops, Role::Engineering];
    /// The roles that run the service: ops and engineering.
    pub const OPERATORS: &'static [Role] = &[Role::Ops, Role::Engineering];
    /// The roles that may read a person's message bodies and export their data: support (who
    /// answer the person) and engineering. Ops run the service on metadata.
    pub const PERSONAL_DATA: &'static [Role] = &[Role::Support, Role::Engineering];

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
    /// The `admin_tokens.id` the call came with.
    pub token_id: Uuid,
}

impl Admin {
    /// `PERMISSION_DENIED` unless the caller's role is one of `allowed`. Writes nothing: a refusal
    /// that should be audited goes through [`crate::authorize`] (or audit it yourself).
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
