//! Twilio's Messages API: create, fetch and list under `/2010-04-01/Accounts/{AccountSid}/`,
//! with HTTP basic auth (AccountSid:AuthToken) and Twilio's error codes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use time::OffsetDateTime;
use twilio::status::MessageStatus;

use crate::Shared;
use crate::resource::{API_VERSION, ApiError, message_json, new_sid};
use crate::state::{NumberBehavior, SimMessage};
use crate::{lifecycle, validate};

/// The Messages API routes, behind basic auth.
pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
            post(create).get(list),
        )
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages/{file}",
            get(fetch),
        )
        .route_layer(middleware::from_fn_with_state(shared, require_auth))
}

/// Answers 401 (error 20003) unless the request carries basic auth with our AccountSid and
/// AuthToken and the path names that account.
async fn require_auth(
    State(shared): State<Arc<Shared>>,
    Path(params): Path<HashMap<String, String>>,
    request: Request,
    next: Next,
) -> Response {
    let authorized = basic_auth(request.headers()).is_some_and(|(user, password)| {
        user == shared.account_sid && password == shared.auth_token
    });
    let own_account = params.get("account_sid") == Some(&shared.account_sid);
    if !authorized || !own_account {
        tracing::info!(path = %request.uri().path(), authorized, own_account, "API request refused");
        return ApiError::unauthorized().into_response();
    }
    next.run(request).await
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// `POST .../Messages.json`: 201 with the message resource, or Twilio's error.
async fn create(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let _in_flight = InFlight::start(&shared);
    let response = match accept(&shared, &form) {
        Ok(message) => (StatusCode::CREATED, Json(message_json(&message))).into_response(),
        Err(error) => {
            tracing::info!(status = error.status, code = error.code, error_message = %error.message, "create refused");
            error.into_response()
        }
    };
    let delay = shared.store.create_delay();
    if !delay.is_zero() {
        // The message (if accepted) already exists: a client that gives up now has sent it.
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shared.shutdown.cancelled() => {}
        }
    }
    response
}

/// Counts a create as in flight until it is answered, or dropped because its client went away.
struct InFlight(Arc<Shared>);

impl InFlight {
    fn start(shared: &Arc<Shared>) -> Self {
        shared.store.create_started();
        Self(shared.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.store.create_ended();
    }
}

/// Validates a create, applies injected faults, stores the message and starts its lifecycle.
fn accept(shared: &Arc<Shared>, form: &[(String, String)]) -> Result<SimMessage, ApiError> {
    if let Some(injected) = shared.store.take_injected_error() {
        return Err(ApiError {
            status: injected.http_status,
            code: injected.code,
            message: "Injected failure (twilio-sim fault)".to_owned(),
        });
    }
    let request = validate::create_request(form)?;
    let behavior = shared.store.behavior(&request.to);
    if behavior == NumberBehavior::OptedOut {
        return Err(ApiError::new(
            400,
            21610,
            "Attempt to send to unsubscribed recipient",
        ));
    }
    let now = OffsetDateTime::now_utc();
    let status = if request.messaging_service_sid.is_some() {
        MessageStatus::Accepted
    } else {
        MessageStatus::Queued
    };
    let message = SimMessage {
        sid: new_sid("SM"),
        account_sid: shared.account_sid.clone(),
        num_segments: twilio::segments::count(&request.body).segments,
        from: request.from,
        messaging_service_sid: request.messaging_service_sid,
        to: request.to,
        body: request.body,
        status,
        status_callback: request.status_callback,
        validity_period: request.validity_period,
        media_urls: request.media_urls,
        error_code: None,
        date_created: now,
        date_updated: now,
        date_sent: None,
    };
    shared.store.insert(message.clone());
    tracing::info!(sid = %message.sid, to = %message.to, status = %status, segments = message.num_segments, "message created");
    if shared.store.auto_callbacks() {
        lifecycle::spawn(shared, &message, behavior);
    }
    Ok(message)
}

/// `GET .../Messages/{Sid}.json`: the resource, or 404 with 20404.
async fn fetch(
    State(shared): State<Arc<Shared>>,
    Path((account_sid, file)): Path<(String, String)>,
) -> Response {
    let found = file
        .strip_suffix(".json")
        .and_then(|sid| shared.store.message(sid));
    match found {
        Some(message) => Json(message_json(&message)).into_response(),
        None => ApiError::not_found(&format!(
            "/{API_VERSION}/Accounts/{account_sid}/Messages/{file}"
        ))
        .into_response(),
    }
}

/// `GET .../Messages.json?To=&From=&PageSize=&Page=`: newest first, one page.
async fn list(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page_size: usize = query
        .get("PageSize")
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=1000).contains(n))
        .unwrap_or(50);
    let page: usize = query.get("Page").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut matching: Vec<SimMessage> = shared
        .store
        .messages()
        .into_iter()
        .filter(|m| query.get("To").is_none_or(|to| *to == m.to))
        .filter(|m| {
            query
                .get("From")
                .is_none_or(|from| m.from.as_ref() == Some(from))
        })
        .collect();
    matching.reverse();
    let items: Vec<_> = matching
        .iter()
        .skip(page.saturating_mul(page_size))
        .take(page_size)
        .map(message_json)
        .collect();
    let uri = format!("/{API_VERSION}/Accounts/{account_sid}/Messages.json");
    let start = page * page_size;
    let next = (start + page_size < matching.len())
        .then(|| format!("{uri}?PageSize={page_size}&Page={}", page + 1));
    Json(json!({
        "end": (start + items.len()).saturating_sub(1),
        "first_page_uri": format!("{uri}?PageSize={page_size}&Page=0"),
        "next_page_uri": next,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": (page > 0).then(|| format!("{uri}?PageSize={page_size}&Page={}", page - 1)),
        "start": start,
        "uri": format!("{uri}?PageSize={page_size}&Page={page}"),
        "messages": items,
    }))
    .into_response()
}
