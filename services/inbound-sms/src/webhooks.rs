//! Twilio's webhooks: `POST /v1/twilio/sms` (inbound messages) and `POST /v1/twilio/status`
//! (status callbacks of outbound messages).
//!
//! Every request goes through the same checks, each rejection answered and logged once with its
//! reason and nothing stored: method (405), content type (415), signature header present (403),
//! body size (413), `X-Twilio-Signature` over `PUBLIC_BASE_URL` + path + query and every
//! parameter (403), `AccountSid` is ours (403), parameters well formed (400 naming the field).
//! A valid request is stored once per `MessageSid` (or once per (SID, status)) with its outbox
//! event (status callbacks: one event per group), committed with the requests that arrived
//! alongside it ([`crate::received`], [`crate::statuses`]), and only then answered `200` with
//! empty TwiML; a redelivery gets the same answer and changes nothing.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode, request};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use sqlx::PgPool;
use tracing::field::Empty;
use twilio::signature;
use twilio::webhook::{self, FormParams, InboundMessage, StatusCallback, WebhookError};
use uuid::Uuid;

use crate::Config;
use crate::error::Error;
use crate::events::{self, Reported};
use crate::metrics::{self, Endpoint, Outcome};
use crate::received::{TextRecord, TextWriter, Texts};
use crate::statuses::{StatusRecord, StatusWriter, Statuses};
use platform::clock::{SharedClock, SystemClock};
use platform::errors::ErrorChain;

/// Where Twilio posts inbound messages.
pub const SMS_PATH: &str = "/v1/twilio/sms";
/// Where Twilio posts status callbacks (the `StatusCallback` outbound-sender sets).
pub const STATUS_PATH: &str = "/v1/twilio/status";
/// The largest body accepted (Twilio's bodies are a few KiB even with 10 media URLs).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The answer to every accepted webhook: empty TwiML (replies go out through the API).
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// What the webhook handlers share.
#[derive(Clone)]
pub struct WebhookState {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    keyring: crypto::Keyring,
    pepper: crypto::PhonePepper,
    auth_token: SecretString,
    account_sid: String,
    public_base_url: String,
    body_limit: usize,
    clock: SharedClock,
    statuses: StatusWriter,
    texts: TextWriter,
}

impl WebhookState {
    /// The handlers' state from the service config, storing through `pool` (connected as
    /// `josh_inbound_sms`). Starts the writer tasks of texts and status callbacks (see
    /// [`crate::group`]), so it must be called within the Tokio runtime. They wake the
    /// service's outbox relay with `relay` after each commit, or, without one, by the outbox
    /// trigger's NOTIFY (`bus::wake`).
    pub fn new(pool: PgPool, config: &Config, relay: Option<bus::RelayWaker>) -> Self {
        let statuses = Statuses {
            relay: relay.clone(),
        };
        Self {
            inner: Arc::new(Inner {
                statuses: StatusWriter::spawn(pool.clone(), statuses),
                texts: TextWriter::spawn(pool, Texts { relay }),
                keyring: config.keyring.clone(),
                pepper: config.phone_pepper.clone(),
                auth_token: config.twilio_auth_token.clone(),
                account_sid: config.twilio_account_sid.clone(),
                public_base_url: config.public_base_url.clone(),
                body_limit: DEFAULT_BODY_LIMIT,
                clock: Arc::new(SystemClock),
            }),
        }
    }

    /// Reads `clock` for the time a message or status was received (default the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        Arc::make_mut(&mut self.inner).clock = clock;
        self
    }

    /// Overrides the body size limit (default [`DEFAULT_BODY_LIMIT`]).
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        Arc::make_mut(&mut self.inner).body_limit = limit;
        self
    }
}

impl fmt::Debug for WebhookState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookState")
            .field("account_sid", &self.inner.account_sid)
            .field("public_base_url", &self.inner.public_base_url)
            .field("body_limit", &self.inner.body_limit)
            .finish_non_exhaustive()
    }
}

/// The webhook routes. Any method but POST answers 405 (with `Allow: POST`).
pub fn router(state: WebhookState) -> Router {
    Router::new()
        .route(
            SMS_PATH,
            post(sms).fallback(|| async { wrong_method(Endpoint::Sms) }),
        )
        .route(
            STATUS_PATH,
            post(status).fallback(|| async { wrong_method(Endpoint::Status) }),
        )
        .with_state(state)
}

#[tracing::instrument(name = "twilio_sms_webhook", skip_all, fields(message_sid = Empty, outcome = Empty))]
async fn sms(State(state): State<WebhookState>, request: Request) -> Response {
    let started = Instant::now();
    let result = receive_sms(&state.inner, request).await;
    answer(Endpoint::Sms, started, result)
}

#[tracing::instrument(name = "twilio_status_webhook", skip_all, fields(message_sid = Empty, status = Empty, outcome = Empty))]
async fn status(State(state): State<WebhookState>, request: Request) -> Response {
    let started = Instant::now();
    let result = receive_status(&state.inner, request).await;
    answer(Endpoint::Status, started, result)
}

fn wrong_method(endpoint: Endpoint) -> Response {
    answer(endpoint, Instant::now(), Err(Error::MethodNotAllowed))
}

/// Turns a handler's result into the answer, logging and counting it exactly once.
fn answer(endpoint: Endpoint, started: Instant, result: Result<Outcome, Error>) -> Response {
    let span = tracing::Span::current();
    match result {
        Ok(outcome) => {
            span.record("outcome", outcome.as_str());
            metrics::record(endpoint, outcome, started.elapsed());
            tracing::info!(
                endpoint = endpoint.as_str(),
                outcome = outcome.as_str(),
                "webhook accepted"
            );
            (
                StatusCode::OK,
                [(CONTENT_TYPE, "text/xml; charset=utf-8")],
                EMPTY_TWIML,
            )
                .into_response()
        }
        Err(error) => {
            let reason = error.reason();
            let outcome = if error.is_server_error() {
                tracing::error!(
                    endpoint = endpoint.as_str(),
                    reason,
                    error = %ErrorChain(&error),
                    "webhook failed"
                );
                Outcome::Failed(reason)
            } else {
                tracing::warn!(
                    endpoint = endpoint.as_str(),
                    reason,
                    field = error.field(),
                    "webhook rejected"
                );
                Outcome::Rejected(reason)
            };
            span.record("outcome", outcome.as_str());
            metrics::record(endpoint, outcome, started.elapsed());
            error.into_response()
        }
    }
}

/// An inbound message: verified, then stored once per `MessageSid` with its audit row and its
/// `sms.received` event, in one transaction (shared with the texts arriving alongside it).
async fn receive_sms(state: &Inner, request: Request) -> Result<Outcome, Error> {
    let params = verify(state, request).await?;
    let message = InboundMessage::from_params(params)?;
    tracing::Span::current().record("message_sid", message.message_sid.as_str());
    crypto::validate_e164(message.from.as_str()).map_err(|_| WebhookError::Malformed {
        field: "From",
        expected: "an E.164 phone number",
    })?;
    let media_count = i32::try_from(message.num_media).map_err(|_| WebhookError::Malformed {
        field: "NumMedia",
        expected: "a whole number in range",
    })?;
    let phone_hash = state.pepper.hash(message.from.as_str());
    // Bound to the SID: a ciphertext moved to another row does not decrypt.
    let body = state
        .keyring
        .encrypt_str(&message.body, message.message_sid.as_bytes())?;
    // Ids and counts only: never the body or a phone number.
    let audit = json!({
        "message_sid": message.message_sid,
        "direction": "in",
        "num_segments": message.num_segments,
        "num_media": message.num_media,
        "messaging_service_sid": message.messaging_service_sid,
        "key_version": body.key_version,
    });
    let record = TextRecord {
        message,
        phone_hash,
        body,
        media_count,
        correlation_id: Uuid::now_v7(),
        received_at: state.clock.now(),
        audit,
        span: tracing::Span::current(),
    };
    Ok(if state.texts.store(record).await? {
        Outcome::Accepted
    } else {
        Outcome::Duplicate
    })
}

/// A status callback: verified, then its audit row stored once per (SID, status) and, when new,
/// its report published in the `sms.statuses_reported` event of the callbacks stored with it.
/// Never touches `sms_messages`: outbound-sender owns outbound rows and moves their status
/// from the event.
async fn receive_status(state: &Inner, request: Request) -> Result<Outcome, Error> {
    let params = verify(state, request).await?;
    let callback = StatusCallback::from_params(params)?;
    let span = tracing::Span::current();
    span.record("message_sid", callback.message_sid.as_str());
    span.record("status", callback.status.as_str());
    let error_code = callback
        .error_code
        .map(i32::try_from)
        .transpose()
        .map_err(|_| WebhookError::Malformed {
            field: "ErrorCode",
            expected: "a Twilio error code",
        })?
        .unwrap_or(0);
    let phone_hash = callback
        .to
        .as_ref()
        .filter(|to| crypto::validate_e164(to.as_str()).is_ok())
        .map(|to| state.pepper.hash(to.as_str()));
    let correlation_id = Uuid::now_v7();
    let report = events::status_report(&Reported {
        callback: &callback,
        error_code,
        phone_hash: phone_hash.as_deref(),
        reported_at: state.clock.now(),
    });
    let record = StatusRecord {
        audit_id: events::status_audit_id(&callback.message_sid, callback.status),
        report,
        phone_hash,
        audit: json!({
            "message_sid": callback.message_sid,
            "status": callback.status.as_str(),
            "error_code": callback.error_code,
            "messaging_service_sid": callback.messaging_service_sid,
            "event_type": callback.event_type,
        }),
        correlation_id,
    };
    Ok(if state.statuses.store(record).await? {
        Outcome::Accepted
    } else {
        Outcome::Duplicate
    })
}

/// The checks every webhook passes before anything is stored; returns its parameters.
async fn verify(state: &Inner, request: Request) -> Result<FormParams, Error> {
    let (parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !webhook::is_form_content_type(content_type) {
        return Err(Error::UnsupportedMediaType);
    }
    let signature = parts
        .headers
        .get(signature::HEADER)
        .filter(|v| !v.is_empty())
        .ok_or(Error::MissingSignature)?
        .to_str()
        .map_err(|_| Error::InvalidSignature)?;
    let bytes = read_body(body, &parts.headers, state.body_limit).await?;
    let params = FormParams::parse(&bytes);
    let url = signed_url(&state.public_base_url, &parts);
    if !signature::validate(
        state.auth_token.expose_secret(),
        &url,
        params.pairs(),
        signature,
    ) {
        return Err(Error::InvalidSignature);
    }
    // A missing AccountSid is a malformed request (400), found when the params are typed.
    if params
        .get("AccountSid")
        .is_some_and(|sid| !sid.is_empty() && sid != state.account_sid)
    {
        return Err(Error::AccountMismatch);
    }
    Ok(params)
}

/// The URL Twilio signed: how it sees us (`PUBLIC_BASE_URL`) plus the path and query it called.
fn signed_url(public_base_url: &str, parts: &request::Parts) -> String {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |pq| pq.as_str());
    format!("{public_base_url}{path_and_query}")
}

/// Reads the whole body, refusing more than `limit` bytes (by `Content-Length` up front, and
/// while reading for chunked bodies).
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, Error> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Error::PayloadTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Error::PayloadTooLarge { limit })
        }
        Err(error) => Err(Error::UnreadableBody(error)),
    }
}
