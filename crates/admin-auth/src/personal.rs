//! Views of a person's private data: message bodies and exports. Metadata views are open to
//! every role; decrypted bodies and exports only to [`Role::PERSONAL_DATA`] (support and
//! engineering), always with a reason, and every refusal is audited.

use sqlx::PgPool;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::{Admin, AuditEntry, Role, audit_denied, authorize, require_reason};

/// The audit action of every export call (`user.export`).
pub const EXPORT_ACTION: &str = "user.export";

/// [`authorize`]s a view any role may see (`action`, e.g. `messages.inbound`) that shows message
/// bodies only when `bodies` is asked for: then the caller's role must be one of
/// [`Role::PERSONAL_DATA`] (otherwise `PERMISSION_DENIED`, audited as denied with
/// `"bodies": true`) and `reason` must not be blank. Returns the caller and the trimmed reason,
/// when one was given.
///
/// # Errors
/// As [`authorize`]; `PERMISSION_DENIED` for bodies asked by another role; `INVALID_ARGUMENT`
/// for bodies asked without a reason.
pub async fn authorize_view<'r>(
    pool: &PgPool,
    metadata: &MetadataMap,
    action: &str,
    bodies: bool,
    reason: &'r str,
) -> Result<(Admin, Option<&'r str>), Status> {
    let admin = authorize(pool, metadata, Role::ANY, action).await?;
    if !bodies {
        let reason = Some(reason.trim()).filter(|r| !r.is_empty());
        return Ok((admin, reason));
    }
    if let Err(refused) = admin.require(Role::PERSONAL_DATA, &format!("{action} with bodies")) {
        let entry = AuditEntry::new(&admin, action, "request").with("bodies", true);
        audit_denied(pool, entry).await;
        return Err(refused);
    }
    let reason = require_reason(reason)
        .map_err(|_| Status::invalid_argument("a reason is required to see message bodies"))?;
    Ok((admin, Some(reason)))
}

/// [`authorize`]s an export of a person's data by `service` ([`EXPORT_ACTION`]; support and
/// engineering; a refusal is audited with the service's name) and checks its reason. Returns
/// the caller and the trimmed reason.
///
/// # Errors
/// As [`authorize`]; `PERMISSION_DENIED` for ops; `INVALID_ARGUMENT` for a blank reason.
pub async fn authorize_export<'r>(
    pool: &PgPool,
    metadata: &MetadataMap,
    service: &str,
    reason: &'r str,
) -> Result<(Admin, &'r str), Status> {
    let admin = authorize(pool, metadata, Role::ANY, EXPORT_ACTION).await?;
    if let Err(refused) = admin.require(Role::PERSONAL_DATA, EXPORT_ACTION) {
        let entry = AuditEntry::new(&admin, EXPORT_ACTION, "request").with("service", service);
        audit_denied(pool, entry).await;
        return Err(refused);
    }
    Ok((admin, require_reason(reason)?))
}
