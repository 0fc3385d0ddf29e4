//! `ListMessages`: the texts a person sent JOSH, newest first, bounded; bodies decrypted only
//! for support and engineering, with a reason. Every view is audited as `messages.inbound` with
//! whether bodies were shown and how many rows.

use admin_auth::{AuditEntry, internal};
use rpc::admin::v1 as api;
use secrecy::ExposeSecret as _;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::{InboundAdminApi, user_ref};
use crate::store::admin::{self as store, Inbound};

/// The audit action of the view.
pub const ACTION: &str = "messages.inbound";
/// Rows shown when the request names no limit.
const DEFAULT_LIMIT: u32 = 50;
/// The most rows one request shows.
const MAX_LIMIT: u32 = 500;

/// The view, audited.
pub(super) async fn list(
    api: &InboundAdminApi,
    metadata: &MetadataMap,
    req: &api::ListMessagesRequest,
) -> Result<api::ListMessagesResponse, Status> {
    let bodies = req.include_bodies;
    let (admin, reason) =
        admin_auth::authorize_view(&api.pool, metadata, ACTION, bodies, &req.reason).await?;
    let (phone, id) = user_ref(req.user.as_ref())?;
    let limit = match req.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let mut tx = api.pool.begin().await.map_err(internal)?;
    let person = store::person(&mut tx, phone, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such user"))?;
    let mut rows = store::inbound_of(
        &mut tx,
        person.id,
        person.phone_e164.as_deref(),
        Some(i64::from(limit) + 1),
    )
    .await
    .map_err(internal)?;
    let truncated = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let keyring = bodies.then_some(&api.keyring);
    let messages: Vec<_> = rows.iter().map(|row| view(row, keyring)).collect();
    let shown = messages.iter().filter(|m| m.body.is_some()).count();
    let mut entry = AuditEntry::new(&admin, ACTION, "user")
        .target(person.id)
        .with("bodies", bodies)
        .with("rows", messages.len())
        .with("bodies_shown", shown);
    if let Some(why) = reason {
        entry = entry.reason(why);
    }
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, user = %person.id, bodies, rows = messages.len(), "admin viewed a user's inbound texts");
    Ok(api::ListMessagesResponse {
        user_id: person.id.to_string(),
        messages,
        bodies_included: bodies,
        truncated,
    })
}

/// One text as shown; its body decrypted when `keyring` is given.
fn view(row: &Inbound, keyring: Option<&crypto::Keyring>) -> api::MessageView {
    let mut view = api::MessageView {
        id: row.id.to_string(),
        at: Some(proto::timestamp::to_timestamp(row.created_at)),
        direction: "in".to_owned(),
        message_sid: row.sid.clone(),
        status: row.status.clone().unwrap_or_default(),
        error_code: row.error_code.unwrap_or_default(),
        segments: row.num_segments.unwrap_or_default(),
        media_count: row.media_count,
        josh_number: row.to_e164.clone(),
        last_status_at: proto::timestamp::to_timestamp_opt(row.last_status_at),
        body_purged: row.body.is_purged(),
        ..api::MessageView::default()
    };
    if let Some(keyring) = keyring {
        match keyring.decrypt_stored(&row.body, row.sid.as_bytes()) {
            Ok(body) => view.body = body.map(|b| b.expose_secret().to_owned()),
            Err(error) => {
                tracing::warn!(message = %row.id, %error, "a stored body cannot be decrypted");
                view.body_error = error.to_string();
            }
        }
    }
    view
}
