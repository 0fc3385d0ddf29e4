//! `POST /v1/stripe/webhook`: verify `Stripe-Signature` over the raw body, store the event once
//! (`stripe_events`, unique event id) and answer 200 at once; a worker processes it afterwards.
//! A bad signature, a timestamp outside 300 s or a body that is not an event is answered 400 and
//! logged with its reason; nothing is stored.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use platform::clock::SharedClock;
use platform::errors::ErrorChain;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::signature;
use crate::store;
use crate::wire::Event;

/// Where Stripe posts events.
pub const PATH: &str = "/v1/stripe/webhook";
/// The largest body accepted (Stripe events are a few KiB).
pub const BODY_LIMIT: usize = 512 * 1024;

/// What the webhook handler needs.
#[derive(Clone)]
pub struct WebhookState {
    /// Stores events (as `josh_billing`).
    pub pool: PgPool,
    /// `STRIPE_WEBHOOK_SECRET`.
    pub secret: SecretString,
    /// Reads "now" for the time an event was received.
    pub clock: SharedClock,
    /// Reads "now" for the signature's timestamp tolerance. Stripe signs with its own (wall)
    /// clock, so this stays the system clock even when `clock` runs on simulated time.
    pub signature_clock: SharedClock,
    /// Wakes the processing worker.
    pub wake: Arc<Notify>,
}

impl std::fmt::Debug for WebhookState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookState").finish_non_exhaustive()
    }
}

/// The webhook route.
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

#[tracing::instrument(name = "stripe_webhook", skip_all, fields(stripe_event_id = tracing::field::Empty, event_type = tracing::field::Empty))]
async fn receive(State(state): State<WebhookState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    let signed_within = state.signature_clock.now();
    if let Err(error) =
        signature::verify(state.secret.expose_secret(), header, &body, signed_within)
    {
        return reject(error.reason());
    }
    let (event, payload) = match (Event::parse(&body), serde_json::from_slice(&body)) {
        (Ok(event), Ok(payload)) => (event, payload),
        _ => return reject("malformed_event"),
    };
    let span = tracing::Span::current();
    span.record("stripe_event_id", event.id.as_str());
    span.record("event_type", event.kind.as_str());
    let now = state.clock.now();
    let stored = async {
        let mut conn = state.pool.acquire().await?;
        store::events::insert(&mut conn, &event.id, &event.kind, &payload, now).await
    }
    .await;
    match stored {
        Ok(new) => {
            crate::metrics::webhook(if new { "stored" } else { "duplicate" }, None);
            tracing::info!(
                stripe_event_id = event.id,
                event_type = event.kind,
                new,
                "stripe event stored"
            );
            state.wake.notify_one();
            (StatusCode::OK, axum::Json(json!({ "received": true }))).into_response()
        }
        Err(error) => {
            tracing::error!(stripe_event_id = event.id, error = %ErrorChain(&error), "cannot store stripe event");
            crate::metrics::webhook("failed", None);
            // 5xx: Stripe retries it later.
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

fn reject(reason: &'static str) -> Response {
    tracing::warn!(reason, "stripe webhook rejected");
    crate::metrics::webhook("rejected", Some(reason));
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": reason })),
    )
        .into_response()
}
