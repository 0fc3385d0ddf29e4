//! The Stripe REST API subset billing calls: form-encoded requests, JSON answers, Stripe's error
//! body, the secret key as basic-auth user or bearer token, and `Idempotency-Key` replays.

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::lifecycle::{self, ActionError};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::Shared;
use crate::state::{period_seconds, price};

type Params = Vec<(String, String)>;

/// The API routes, each behind the API-key check (answered before the body is read, like Stripe).
pub fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/v1/customers", post(create_customer))
        .route("/v1/customers/{id}", get(read))
        .route("/v1/checkout/sessions", post(create_session))
        .route("/v1/checkout/sessions/{id}", get(read))
        .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
        .route("/v1/subscriptions", get(list_subscriptions))
        .route(
            "/v1/subscriptions/{id}",
            get(read).delete(cancel_subscription),
        )
        .route("/v1/billing_portal/sessions", post(create_portal))
        .route("/v1/charges/{id}", get(read))
        .route("/v1/invoices/{id}", get(read))
        .route_layer(axum::middleware::from_fn_with_state(shared, require_key))
}

async fn require_key(
    State(shared): State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if authorized(&shared, request.headers()) {
        next.run(request).await
    } else {
        error(StatusCode::UNAUTHORIZED, "Invalid API Key provided")
    }
}

/// Stripe's error answer.
pub fn error(status: StatusCode, message: &str) -> Response {
    let kind = if status == StatusCode::UNAUTHORIZED {
        "authentication_error"
    } else {
        "invalid_request_error"
    };
    (
        status,
        Json(json!({ "error": { "type": kind, "message": message } })),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    if let Some(token) = value.strip_prefix("Bearer ") {
        return token == shared.secret_key;
    }
    value
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| pair.split(':').next() == Some(shared.secret_key.as_str()))
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `metadata[...]` (or `<prefix>[metadata][...]`) parameters as an object.
fn metadata(params: &Params, prefix: &str) -> Value {
    let map = params
        .iter()
        .filter_map(|(k, v)| {
            let key = k
                .strip_prefix(prefix)?
                .strip_prefix('[')?
                .strip_suffix(']')?;
            Some((key.to_owned(), Value::String(v.clone())))
        })
        .collect::<serde_json::Map<_, _>>();
    Value::Object(map)
}

fn key(headers: &HeaderMap, what: &str) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("{what}:{k}"))
}

async fn read(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.store.get(&id) {
        Some(object) => Json(object).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("No such object: '{id}'")),
    }
}

async fn create_customer(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    let now = shared.now();
    let customer = shared
        .store
        .once(key(&headers, "customers").as_deref(), |next| {
            json!({
                "id": next("cus"), "object": "customer", "created": now, "livemode": false,
                "email": param(&params, "email"), "metadata": metadata(&params, "metadata"),
                "deleted": false
            })
        });
    Json(customer).into_response()
}

async fn create_session(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    if param(&params, "mode") != Some("subscription") {
        return error(StatusCode::BAD_REQUEST, "mode must be subscription");
    }
    let Some(customer) = param(&params, "customer").filter(|c| shared.store.get(c).is_some())
    else {
        return error(StatusCode::BAD_REQUEST, "No such customer");
    };
    let Some(price_id) = param(&params, "line_items[0][price]") else {
        return error(
            StatusCode::BAD_REQUEST,
            "Missing required param: line_items[0][price].",
        );
    };
    let now = shared.now();
    let item = price(price_id, now);
    let base = shared.base_url.clone();
    let session = shared.store.once(key(&headers, "sessions").as_deref(), |next| {
        let id = format!("cs_test_{}", next("s"));
        json!({
            "id": id, "object": "checkout.session", "mode": "subscription", "status": "open",
            "payment_status": "unpaid", "customer": customer, "created": now,
            "expires_at": now + 24 * 3600, "livemode": false, "currency": "usd",
            "amount_subtotal": item["unit_amount"], "amount_total": item["unit_amount"],
            "client_reference_id": param(&params, "client_reference_id"),
            "metadata": metadata(&params, "metadata"),
            "subscription_metadata": metadata(&params, "subscription_data[metadata]"),
            "price": price_id, "period_seconds": period_seconds(&item),
            "success_url": param(&params, "success_url"), "cancel_url": param(&params, "cancel_url"),
            "subscription": null, "invoice": null, "url": format!("{base}/checkout/{id}"),
            // Real Stripe returns line_items only when expanded; always present here.
            "line_items": { "object": "list", "has_more": false, "data": [{
                "object": "item", "price": item, "quantity": 1, "amount_total": item["unit_amount"]
            }] }
        })
    });
    Json(session).into_response()
}

async fn expire_session(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(mut session) = shared.store.get(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            &format!("No such checkout.session: '{id}'"),
        );
    };
    if session["status"] != "open" {
        return error(
            StatusCode::BAD_REQUEST,
            "Only open Checkout Sessions can be expired.",
        );
    }
    session["status"] = json!("expired");
    session["url"] = Value::Null;
    shared.store.put(session.clone());
    Json(session).into_response()
}

async fn list_subscriptions(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Params>,
) -> Response {
    let customer = param(&query, "customer");
    let status = param(&query, "status");
    let data: Vec<Value> = shared
        .store
        .all("subscription")
        .into_iter()
        .filter(|s| customer.is_none_or(|c| s["customer"] == c))
        .filter(|s| match status {
            Some("all") => true,
            Some(st) => s["status"] == st,
            None => s["status"] != "canceled",
        })
        .collect();
    Json(json!({ "object": "list", "data": data, "has_more": false, "url": "/v1/subscriptions" }))
        .into_response()
}

/// `DELETE /v1/subscriptions/{id}`: cancels at once, like Stripe's API, answering with the
/// canceled subscription after `customer.subscription.deleted` is delivered. An unknown
/// subscription is 404; one that has ended is 400 (Stripe refuses to change it).
async fn cancel_subscription(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    match lifecycle::cancel(&shared, &id) {
        Ok(events) => {
            let canceled = events.first().map(|(_, sub, _)| sub.clone());
            shared.fire(events).await;
            Json(canceled.unwrap_or(Value::Null)).into_response()
        }
        Err(ActionError::NotFound(_)) => error(
            StatusCode::NOT_FOUND,
            &format!("No such subscription: '{id}'"),
        ),
        Err(ActionError::Conflict(_)) => error(
            StatusCode::BAD_REQUEST,
            "A canceled subscription can only update its cancellation_details and metadata.",
        ),
    }
}

async fn create_portal(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(params): Form<Params>,
) -> Response {
    let Some(customer) = param(&params, "customer").filter(|c| shared.store.get(c).is_some())
    else {
        return error(StatusCode::BAD_REQUEST, "No such customer");
    };
    let now = shared.now();
    let base = shared.base_url.clone();
    let session = shared
        .store
        .once(key(&headers, "portal").as_deref(), |next| {
            json!({
                "id": next("bps"), "object": "billing_portal.session", "customer": customer,
                "created": now, "livemode": false, "return_url": param(&params, "return_url"),
                "url": format!("{base}/portal/{customer}")
            })
        });
    Json(session).into_response()
}
