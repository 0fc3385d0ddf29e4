//! Twilio's wire shapes: the Message resource JSON, the error body, SIDs and RFC 2822 dates.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use twilio::status::MessageStatus;

use crate::state::SimMessage;

/// The API version in every path, resource and webhook.
pub const API_VERSION: &str = "2010-04-01";

/// A new SID: `prefix` followed by 32 lowercase hex digits.
pub fn new_sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// `Thu, 24 Aug 2023 05:01:45 +0000`, as Twilio writes dates.
pub fn rfc2822(at: OffsetDateTime) -> String {
    // Formatting a UTC date-time as RFC 2822 fails only for years outside 1900-9999.
    at.format(&Rfc2822).unwrap_or_default()
}

/// The path of one message resource.
pub fn message_uri(account_sid: &str, sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json")
}

/// The Message resource as the API returns it (create, fetch, list items).
pub fn message_json(message: &SimMessage) -> Value {
    let uri = message_uri(&message.account_sid, &message.sid);
    let media_uri = format!(
        "/{API_VERSION}/Accounts/{}/Messages/{}/Media.json",
        message.account_sid, message.sid
    );
    json!({
        "account_sid": message.account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.date_created),
        "date_sent": message.date_sent.map(rfc2822),
        "date_updated": rfc2822(message.date_updated),
        "direction": if message.status == MessageStatus::Received { "inbound" } else { "outbound-api" },
        "error_code": message.error_code,
        "error_message": message.error_code.map(error_message),
        "from": message.from,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": message.media_urls.len().to_string(),
        "num_segments": message.num_segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status.as_str(),
        "subresource_uris": { "media": media_uri },
        "to": message.to,
        "uri": uri,
    })
}

/// A short description of a delivery error code, for `error_message`.
fn error_message(code: u32) -> &'static str {
    match code {
        21610 => "Attempt to send to unsubscribed recipient",
        30003 => "Unreachable destination handset",
        30005 => "Unknown destination handset",
        30006 => "Landline or unreachable carrier",
        30007 => "Carrier violation",
        30008 => "Unknown error",
        30034 => "Message from an unregistered number",
        30036 => "Validity Period Expired",
        _ => "Message delivery failed",
    }
}

/// An error answer in Twilio's shape: `{code, message, more_info, status}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Twilio's error code (`null` in the body when `None`).
    pub code: Option<u32>,
    /// Twilio's message text.
    pub message: String,
}

impl ApiError {
    /// An error with a Twilio code.
    pub fn new(status: u16, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Some(code),
            message: message.into(),
        }
    }

    /// 401 with 20003, as Twilio answers bad or missing credentials.
    pub fn unauthorized() -> Self {
        Self::new(401, 20003, "Authenticate")
    }

    /// 404 with 20404 for a resource path that does not exist.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            404,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "message": self.message,
            "more_info": self
                .code
                .map(|c| format!("https://www.twilio.com/docs/errors/{c}")),
            "status": self.status,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_and_dates_look_like_twilios() {
        let sid = new_sid("SM");
        assert_eq!(sid.len(), 34);
        assert!(sid[2..].chars().all(|c| c.is_ascii_hexdigit()));
        let at = time::macros::datetime!(2023-08-24 05:01:45 UTC);
        assert_eq!(rfc2822(at), "Thu, 24 Aug 2023 05:01:45 +0000");
    }

    #[test]
    fn error_body_has_twilios_fields() {
        let body = ApiError::new(400, 21604, "A 'To' phone number is required.").body();
        assert_eq!(body["code"], 21604);
        assert_eq!(body["status"], 400);
        assert_eq!(
            body["more_info"],
            "https://www.twilio.com/docs/errors/21604"
        );
    }
}
