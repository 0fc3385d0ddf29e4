//! `ExportUser`: the router's rows about a person as one JSON document. Support and
//! engineering, with a reason; audited as `user.export` with the rows per table.

use admin_auth::{AuditEntry, internal};
use rpc::admin::v1 as api;
use serde_json::Value;
use sqlx::PgPool;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::store::export as store;

/// The export, audited.
pub(super) async fn export(
    pool: &PgPool,
    metadata: &MetadataMap,
    req: &api::UserExportRequest,
) -> Result<api::UserExportResponse, Status> {
    let (admin, why) =
        admin_auth::authorize_export(pool, metadata, crate::SERVICE, &req.reason).await?;
    let user_id = uuid::Uuid::parse_str(req.user_id.trim())
        .map_err(|_| Status::invalid_argument("user_id is not a UUID"))?;
    let mut tx = pool.begin().await.map_err(internal)?;
    let document = store::user_document(&mut tx, user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such user"))?;
    let entry = AuditEntry::new(&admin, admin_auth::EXPORT_ACTION, "user")
        .target(user_id)
        .reason(why)
        .with("service", crate::SERVICE)
        .with("rows", row_counts(&document));
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %user_id, "admin exported a user's router data");
    Ok(api::UserExportResponse {
        service: crate::SERVICE.to_owned(),
        document_json: document.to_string(),
    })
}

/// `{table: rows}` of a document (what the audit row records instead of the data).
fn row_counts(document: &Value) -> Value {
    document
        .as_object()
        .map(|tables| {
            tables
                .iter()
                .map(|(table, rows)| {
                    let n = rows.as_array().map_or(0, Vec::len);
                    (table.clone(), Value::from(n))
                })
                .collect::<serde_json::Map<_, _>>()
        })
        .map_or(Value::Null, Value::Object)
}
