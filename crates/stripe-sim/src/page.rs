//! The local checkout and portal pages: plain HTML forms whose buttons run a lifecycle action
//! and fire its webhooks, then come back to the page. `GET /sim/health` for scripts.

use std::sync::Arc;

use axum::Router;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::lifecycle::{self, ActionError};
use crate::{Shared, api};

/// The page routes.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sim/health", get(|| async { "ok" }))
        .route("/checkout/{session}", get(checkout_page))
        .route("/checkout/{session}/pay", post(pay))
        .route("/portal/{customer}", get(portal_page))
        .route(
            "/sim/subscriptions/{id}/{action}",
            post(subscription_action),
        )
        .route("/sim/charges/{id}/{action}", post(charge_action))
}

async fn checkout_page(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let Some(session) = shared.store.get(&id) else {
        return api::error(StatusCode::NOT_FOUND, "No such checkout session");
    };
    let amount = session["amount_total"].as_i64().unwrap_or(0);
    let mut body = format!(
        "<h1>JOSH membership</h1><p>Checkout {id}: ${}.{:02}, status <b>{}</b></p>",
        amount / 100,
        amount % 100,
        text(&session["status"])
    );
    if session["status"] == "open" {
        body.push_str(&form(
            &format!("/checkout/{id}/pay"),
            "Pay",
            &format!("/checkout/{id}"),
        ));
    }
    if let Some(sub) = session["subscription"]
        .as_str()
        .and_then(|s| shared.store.get(s))
    {
        body.push_str(&controls(&shared, &sub, &format!("/checkout/{id}")));
    }
    page(&body)
}

async fn portal_page(State(shared): State<Arc<Shared>>, Path(customer): Path<String>) -> Response {
    let subs: Vec<Value> = shared
        .store
        .all("subscription")
        .into_iter()
        .filter(|s| s["customer"] == customer.as_str())
        .collect();
    let mut body = format!("<h1>Billing portal</h1><p>Customer {customer}</p>");
    for sub in &subs {
        body.push_str(&controls(&shared, sub, &format!("/portal/{customer}")));
    }
    page(&body)
}

fn controls(shared: &Shared, sub: &Value, back: &str) -> String {
    let id = text(&sub["id"]);
    let mut html = format!(
        "<h2>Subscription {id}: <b>{}</b></h2>",
        text(&sub["status"])
    );
    if sub["status"] != "canceled" {
        for (action, label) in [
            ("fail_next_invoice", "Fail next invoice"),
            ("renew", "Renew now (pay)"),
            ("cancel", "Cancel"),
        ] {
            html.push_str(&form(
                &format!("/sim/subscriptions/{id}/{action}"),
                label,
                back,
            ));
        }
    }
    let charges = shared.store.all("charge");
    if let Some(charge) = charges
        .iter()
        .rev()
        .find(|c| c["customer"] == sub["customer"] && c["paid"] == true)
    {
        let ch = text(&charge["id"]);
        html.push_str(&form(
            &format!("/sim/charges/{ch}/refund"),
            "Refund last charge",
            back,
        ));
        html.push_str(&form(
            &format!("/sim/charges/{ch}/dispute"),
            "Dispute last charge",
            back,
        ));
    }
    html
}

async fn pay(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let events = lifecycle::pay(&shared, &id);
    finish(&shared, events, &format!("/checkout/{id}")).await
}

async fn subscription_action(
    State(shared): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let events = match action.as_str() {
        "fail_next_invoice" => lifecycle::fail_next_invoice(&shared, &id),
        "renew" => lifecycle::renew(&shared, &id),
        "cancel" => lifecycle::cancel(&shared, &id),
        _ => return api::error(StatusCode::NOT_FOUND, "unknown action"),
    };
    finish(&shared, events, &back(&query)).await
}

async fn charge_action(
    State(shared): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let events = match action.as_str() {
        "refund" => lifecycle::refund_or_dispute(&shared, &id, false),
        "dispute" => lifecycle::refund_or_dispute(&shared, &id, true),
        _ => return api::error(StatusCode::NOT_FOUND, "unknown action"),
    };
    finish(&shared, events, &back(&query)).await
}

/// Where a form returns to (`?back=` of its action, a local path only).
fn back(query: &HashMap<String, String>) -> String {
    query
        .get("back")
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .cloned()
        .unwrap_or_else(|| "/sim/health".to_owned())
}

async fn finish(
    shared: &Shared,
    events: Result<Vec<crate::state::Pending>, ActionError>,
    back: &str,
) -> Response {
    match events {
        Ok(events) => {
            shared.fire(events).await;
            Redirect::to(back).into_response()
        }
        Err(ActionError::NotFound(what)) => {
            api::error(StatusCode::NOT_FOUND, &format!("No such object: {what}"))
        }
        Err(error @ ActionError::Conflict(_)) => {
            api::error(StatusCode::CONFLICT, &error.to_string())
        }
    }
}

fn form(action: &str, label: &str, back: &str) -> String {
    format!("<form method=\"post\" action=\"{action}?back={back}\"><button>{label}</button></form>")
}

fn page(body: &str) -> Response {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Stripe simulator</title></head><body>{body}</body></html>"
    ))
    .into_response()
}

/// A JSON string value as HTML-safe text (ids and statuses are plain ASCII; escape anyway).
fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_default()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
