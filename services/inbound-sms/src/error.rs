//! The one error type of inbound-sms and the HTTP answer for each case.
//!
//! Rejections (4xx) say what was wrong without echoing any request value; failures (5xx) are
//! opaque to the caller (Twilio retries them) and logged with their cause chain by the handler.

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use twilio::webhook::WebhookError;

/// Everything that can stop a webhook from being accepted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is not `application/x-www-form-urlencoded`.
    #[error("content type is not application/x-www-form-urlencoded")]
    UnsupportedMediaType,
    /// The body is larger than the limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read (the client went away mid-request).
    #[error("request body could not be read")]
    UnreadableBody(#[source] axum::BoxError),
    /// No `X-Twilio-Signature` header.
    #[error("X-Twilio-Signature header is missing")]
    MissingSignature,
    /// The signature does not match the request.
    #[error("X-Twilio-Signature does not match the request")]
    InvalidSignature,
    /// Correctly signed, but for another Twilio account.
    #[error("AccountSid is not this service's account")]
    AccountMismatch,
    /// A parameter is missing or malformed.
    #[error(transparent)]
    Params(#[from] WebhookError),
    /// Encrypting the body failed.
    #[error("encrypting the message body failed")]
    Crypto(#[from] crypto::CryptoError),
    /// Postgres failed.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    /// The event could not be put in the outbox.
    #[error("enqueuing the event failed")]
    Outbox(#[from] bus::BusError),
    /// The status writer has stopped (the service is shutting down).
    #[error("the status writer has stopped")]
    Unavailable,
}

impl Error {
    /// The HTTP status answered.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnreadableBody(_) | Self::Params(_) => StatusCode::BAD_REQUEST,
            Self::MissingSignature | Self::InvalidSignature | Self::AccountMismatch => {
                StatusCode::FORBIDDEN
            }
            Self::Crypto(_) | Self::Database(_) | Self::Outbox(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short, fixed reason for logs and the `reason` metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MethodNotAllowed => "method_not_allowed",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnreadableBody(_) => "unreadable_body",
            Self::MissingSignature => "missing_signature",
            Self::InvalidSignature => "invalid_signature",
            Self::AccountMismatch => "account_mismatch",
            Self::Params(WebhookError::Missing { .. }) => "missing_field",
            Self::Params(WebhookError::Malformed { .. }) => "malformed_field",
            Self::Params(WebhookError::Repeated { .. }) => "repeated_field",
            Self::Params(WebhookError::UnknownStatus { .. }) => "unknown_status",
            Self::Crypto(_) => "crypto",
            Self::Database(_) => "database",
            Self::Outbox(_) => "outbox",
            Self::Unavailable => "unavailable",
        }
    }

    /// The request parameter at fault, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Params(e) => Some(e.field()),
            _ => None,
        }
    }

    /// Whether this is our failure (5xx) rather than a bad request.
    pub fn is_server_error(&self) -> bool {
        self.status().is_server_error()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            // Our failures are opaque; Twilio retries them.
            _ if status.is_server_error() => "internal error".to_owned(),
            // Do not tell a forger which check failed (the log has the reason).
            Self::MissingSignature | Self::InvalidSignature | Self::AccountMismatch => {
                "forbidden".to_owned()
            }
            // Names the parameter, never its value.
            other => other.to_string(),
        };
        (status, [(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_reasons() {
        let missing = Error::from(WebhookError::Missing { field: "From" });
        assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
        assert_eq!(missing.reason(), "missing_field");
        assert_eq!(missing.field(), Some("From"));
        assert_eq!(Error::InvalidSignature.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            Error::PayloadTooLarge { limit: 1 }.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let db = Error::from(sqlx::Error::PoolTimedOut);
        assert!(db.is_server_error());
        assert_eq!(db.reason(), "database");
    }
}
