//! `ExportUser`: the person's inbound texts (bodies decrypted) and message events, as one JSON
//! document. Support and engineering, with a reason; audited as `user.export`.

use admin_auth::{AuditEntry, internal};
use rpc::admin::v1 as api;
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::{InboundAdminApi, parse_id};
use crate::SERVICE;
use crate::store::admin as store;

/// The export, audited.
pub(super) async fn export(
    api: &InboundAdminApi,
    metadata: &MetadataMap,
    req: &api::UserExportRequest,
) -> Result<api::UserExportResponse, Status> {
    let (admin, why) =
        admin_auth::authorize_export(&api.pool, metadata, SERVICE, &req.reason).await?;
    let user_id = parse_id(&req.user_id)?;
    let mut tx = api.pool.begin().await.map_err(internal)?;
    let person = store::person(&mut tx, None, Some(user_id))
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such user"))?;
    let rows = store::inbound_export(&mut tx, person.id, person.phone_e164.as_deref())
        .await
        .map_err(internal)?;
    let events = store::message_events_export(&mut tx, person.id)
        .await
        .map_err(internal)?;
    let messages: Vec<Value> = rows
        .into_iter()
        .map(|(row, sid, body)| with_body(row, api.keyring.decrypt_stored(&body, sid.as_bytes())))
        .collect();
    let counts = json!({
        "sms_messages": messages.len(),
        "message_events": events.as_array().map_or(0, Vec::len),
    });
    let entry = AuditEntry::new(&admin, admin_auth::EXPORT_ACTION, "user")
        .target(person.id)
        .reason(why)
        .with("service", SERVICE)
        .with("rows", counts);
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %person.id, "admin exported a user's inbound texts");
    let document = json!({ "sms_messages": messages, "message_events": events });
    Ok(api::UserExportResponse {
        service: SERVICE.to_owned(),
        document_json: document.to_string(),
    })
}

/// `row` with its decrypted `body` (null once purged) and, when it cannot be decrypted,
/// `body_error`.
fn with_body(
    mut row: Value,
    body: Result<Option<secrecy::SecretString>, crypto::CryptoError>,
) -> Value {
    if let Some(map) = row.as_object_mut() {
        match body {
            Ok(body) => {
                let body = body.map(|b| b.expose_secret().to_owned());
                map.insert("body".to_owned(), body.into());
            }
            Err(error) => {
                map.insert("body".to_owned(), Value::Null);
                map.insert("body_error".to_owned(), error.to_string().into());
            }
        }
    }
    row
}
