//! `ListMessages`: what JOSH texted a person (their outbound jobs), newest first, bounded;
//! bodies decrypted only for support and engineering, with a reason. Every view is audited as
//! `messages.outbound` with whether bodies were shown and how many rows.

use admin_auth::{AuditEntry, internal};
use rpc::admin::v1 as api;
use secrecy::ExposeSecret as _;
use tonic::Status;
use tonic::metadata::MetadataMap;
use uuid::Uuid;

use crate::store::views::{self as store, Outbound};

/// The audit action of the view.
pub const ACTION: &str = "messages.outbound";
/// Rows shown when the request names no limit.
const DEFAULT_LIMIT: u32 = 50;
/// The most rows one request shows.
const MAX_LIMIT: u32 = 500;

/// The person a request names: by phone or by id.
fn user_ref(
    user: Option<&api::list_messages_request::User>,
) -> Result<(Option<&str>, Option<Uuid>), Status> {
    use api::list_messages_request::User;
    match user {
        Some(User::PhoneE164(p)) => Ok((Some(p.trim()), None)),
        Some(User::UserId(id)) => Uuid::parse_str(id.trim())
            .map(|id| (None, Some(id)))
            .map_err(|_| Status::invalid_argument("user_id is not a UUID")),
        None => Err(Status::invalid_argument("a phone or user id is required")),
    }
}

/// The view, audited.
pub(super) async fn list(
    pool: &sqlx::PgPool,
    keyring: &crypto::Keyring,
    metadata: &MetadataMap,
    req: &api::ListMessagesRequest,
) -> Result<api::ListMessagesResponse, Status> {
    let bodies = req.include_bodies;
    let (admin, reason) =
        admin_auth::authorize_view(pool, metadata, ACTION, bodies, &req.reason).await?;
    let (phone, id) = user_ref(req.user.as_ref())?;
    let limit = match req.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let mut tx = pool.begin().await.map_err(internal)?;
    let person = store::person(&mut tx, phone, id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such user"))?;
    let mut rows = store::outbound_of(&mut tx, &person, i64::from(limit) + 1)
        .await
        .map_err(internal)?;
    let truncated = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let keyring = bodies.then_some(keyring);
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
    tracing::info!(admin = %admin.id, user = %person.id, bodies, rows = messages.len(), "admin viewed a user's outbound texts");
    Ok(api::ListMessagesResponse {
        user_id: person.id.to_string(),
        messages,
        bodies_included: bodies,
        truncated,
    })
}

/// One job as shown; its body decrypted when `keyring` is given.
fn view(row: &Outbound, keyring: Option<&crypto::Keyring>) -> api::MessageView {
    let mut view = api::MessageView {
        id: row.id.to_string(),
        at: Some(proto::timestamp::to_timestamp(row.created_at)),
        direction: "out".to_owned(),
        message_sid: row.sid.clone().unwrap_or_default(),
        status: row.status.clone(),
        delivery_status: row.delivery_status.clone().unwrap_or_default(),
        error_code: row.error_code.unwrap_or_default(),
        purpose: row.purpose.clone(),
        segments: row.segments.unwrap_or_default(),
        josh_number: row.sender.clone().unwrap_or_default(),
        last_status_at: proto::timestamp::to_timestamp_opt(row.last_status_at),
        body_purged: row.body.body.is_purged(),
        ..api::MessageView::default()
    };
    if let Some(keyring) = keyring {
        match row.body.open(keyring) {
            Ok(body) => view.body = body.map(|b| b.expose_secret().to_owned()),
            Err(error) => {
                tracing::warn!(job = %row.id, %error, "a stored body cannot be decrypted");
                view.body_error = error.to_string();
            }
        }
    }
    view
}
