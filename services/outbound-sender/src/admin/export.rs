//! `ExportUser`: the person's outbound jobs and messages (bodies decrypted) and suppressions
//! (opt-outs), as one JSON document. Support and engineering, with a reason; audited as
//! `user.export`.

use admin_auth::{AuditEntry, internal};
use rpc::admin::v1 as api;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::SERVICE;
use crate::store::views::{self as store, ExportRow};

/// The export, audited.
pub(super) async fn export(
    pool: &sqlx::PgPool,
    keyring: &crypto::Keyring,
    metadata: &MetadataMap,
    req: &api::UserExportRequest,
) -> Result<api::UserExportResponse, Status> {
    let (admin, why) = admin_auth::authorize_export(pool, metadata, SERVICE, &req.reason).await?;
    let user_id = uuid::Uuid::parse_str(req.user_id.trim())
        .map_err(|_| Status::invalid_argument("user_id is not a UUID"))?;
    let mut tx = pool.begin().await.map_err(internal)?;
    let person = store::person(&mut tx, None, Some(user_id))
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such user"))?;
    let jobs = store::jobs_export(&mut tx, &person)
        .await
        .map_err(internal)?;
    let messages = store::messages_export(&mut tx, &person)
        .await
        .map_err(internal)?;
    let suppressions = store::suppressions_export(&mut tx, &person)
        .await
        .map_err(internal)?;
    let (jobs, messages) = (decrypted(jobs, keyring), decrypted(messages, keyring));
    let counts = json!({
        "sms_outbound_jobs": jobs.len(),
        "sms_messages": messages.len(),
        "sms_suppressions": suppressions.as_array().map_or(0, Vec::len),
    });
    let entry = AuditEntry::new(&admin, admin_auth::EXPORT_ACTION, "user")
        .target(person.id)
        .reason(why)
        .with("service", SERVICE)
        .with("rows", counts);
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %person.id, "admin exported a user's outbound texts");
    let document = json!({
        "sms_outbound_jobs": jobs,
        "sms_messages": messages,
        "sms_suppressions": suppressions,
    });
    Ok(api::UserExportResponse {
        service: SERVICE.to_owned(),
        document_json: document.to_string(),
    })
}

/// Each row with its decrypted `body` (null once purged) and, when it cannot be decrypted,
/// `body_error`.
fn decrypted(rows: Vec<ExportRow>, keyring: &crypto::Keyring) -> Vec<Value> {
    rows.into_iter()
        .map(|(mut row, body)| {
            if let Some(map) = row.as_object_mut() {
                match body.open(keyring) {
                    Ok(plain) => {
                        let plain = plain.map(|b| b.expose_secret().to_owned());
                        map.insert("body".to_owned(), plain.into());
                    }
                    Err(error) => {
                        map.insert("body".to_owned(), Value::Null);
                        map.insert("body_error".to_owned(), error.to_string().into());
                    }
                }
            }
            row
        })
        .collect()
}
