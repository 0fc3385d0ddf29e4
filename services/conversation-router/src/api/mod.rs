//! The router's HTTP API: registration with a one-time code (`POST /v1/registrations`,
//! `POST /v1/registrations/verify`) and the magic-link LinkUp page (`GET /l/{token}`).
//! Errors are JSON `{"error": ..., "field": ...}` with the status that fits; a 5xx body is
//! opaque and its cause chain is logged once, here.

mod legal;
mod page;
mod registrations;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sqlx::PgPool;

use crate::Context;
use crate::error::RouterError;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// The router's pool.
    pub pool: PgPool,
    /// Keys, clock and links.
    pub ctx: Arc<Context>,
}

/// The API's routes.
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/v1/registrations", post(registrations::register))
        .route("/v1/registrations/verify", post(registrations::verify))
        .route("/v1/registrations/resend", post(registrations::resend))
        .route("/l/{token}", get(page::show))
        .route("/terms", get(legal::terms))
        .route("/privacy", get(legal::privacy))
        .with_state(state)
}

/// A request the API refuses or could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// A field failed validation (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The field's name.
        field: &'static str,
        /// What is wrong, for the person filling the form.
        message: &'static str,
    },
    /// The phone is already registered (409).
    #[error("this phone number is already registered")]
    Conflict,
    /// Too many requests (429).
    #[error("too many requests: {0}")]
    TooMany(&'static str),
    /// Nothing to verify for this phone (404).
    #[error("no registration waits for a code for this phone number")]
    NotFound,
    /// Our side failed (500, opaque).
    #[error("internal error")]
    Internal(#[from] RouterError),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(RouterError::from(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, field) = match &self {
            Self::Malformed(_) => (StatusCode::BAD_REQUEST, None),
            Self::Invalid { field, .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some(*field)),
            Self::Conflict => (StatusCode::CONFLICT, Some("phone")),
            Self::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, None),
            Self::NotFound => (StatusCode::NOT_FOUND, Some("phone")),
            Self::Internal(cause) => {
                tracing::error!(error = %platform::errors::ErrorChain(cause), "registration API failed");
                let body = serde_json::json!({ "error": "internal error" });
                return (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
            }
        };
        tracing::info!(status = status.as_u16(), field, reason = %self, "registration API refused a request");
        let body = serde_json::json!({ "error": self.to_string(), "field": field });
        (status, Json(body)).into_response()
    }
}

/// The client's address: the first `X-Forwarded-For` hop when a proxy set one, else the peer.
pub fn client_ip(headers: &HeaderMap, peer: SocketAddr) -> String {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map_or_else(|| peer.ip().to_string(), str::to_owned)
}
