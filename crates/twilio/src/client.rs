//! Twilio's Messages API as JOSH calls it: create a message, fetch one by SID, and list recent
//! messages to one recipient (to settle a send whose outcome is unknown).
//!
//! HTTPS goes through reqwest over rustls with the `ring` provider, installed once per process by
//! [`install_crypto_provider`] (every [`MessagesClient::new`] calls it). Requests use basic auth
//! (account SID, auth token) and a per-request timeout. Errors keep what decides the next step
//! (HTTP status, Twilio error code, timeout or no connection; see [`ApiError::action`]) and never
//! carry the token, a message body or a phone number: Twilio's own error text may quote the
//! number, so it is left out.

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

use crate::errors::{ErrorAction, action_for_response};
use crate::status::MessageStatus;

/// The real Twilio API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// Pages of a recipient's messages read at most when looking for an earlier send.
const MAX_LIST_PAGES: usize = 5;

/// Installs rustls' `ring` provider as the process default (reqwest is built without one).
/// Idempotent: a provider installed earlier, by this or anything else, stays.
pub fn install_crypto_provider() {
    // `Err` means a default is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Who a message is sent from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sender {
    /// One number (`From`, E.164).
    From(String),
    /// A Messaging Service (`MessagingServiceSid`, `MG...`) that picks the number.
    MessagingService(String),
}

impl Sender {
    /// The number or Messaging Service SID.
    pub fn as_str(&self) -> &str {
        match self {
            Self::From(value) | Self::MessagingService(value) => value,
        }
    }
}

/// A message to create.
pub struct CreateMessage {
    /// Recipient, E.164.
    pub to: String,
    /// `From` number or Messaging Service.
    pub sender: Sender,
    /// The text. Secret: never logged, absent from `Debug`.
    pub body: SecretString,
    /// `StatusCallback`: where Twilio posts later statuses.
    pub status_callback: Option<String>,
    /// `ValidityPeriod` in seconds for time-boxed texts (Twilio accepts 1..=36000).
    pub validity_period: Option<u32>,
}

impl fmt::Debug for CreateMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateMessage")
            .field("to", &mask_phone(&self.to))
            .field("sender", &self.sender)
            .field("body", &"[redacted]")
            .field("status_callback", &self.status_callback)
            .field("validity_period", &self.validity_period)
            .finish()
    }
}

/// A Message resource as Twilio returns it (the fields JOSH reads).
#[derive(Clone, Deserialize)]
pub struct MessageResource {
    /// `SM...`.
    pub sid: String,
    /// Status name, e.g. `queued` (see [`MessageResource::status`]).
    #[serde(default, rename = "status")]
    pub raw_status: Option<String>,
    /// Recipient.
    #[serde(default)]
    pub to: Option<String>,
    /// Sending number (null until a Messaging Service picked one).
    #[serde(default)]
    pub from: Option<String>,
    /// Messaging Service, if one sent it.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// Twilio sends numbers as strings here.
    #[serde(default)]
    num_segments: Option<String>,
    /// Twilio error code of a failed or undelivered message.
    #[serde(default)]
    pub error_code: Option<i64>,
    /// RFC 2822 creation time.
    #[serde(default)]
    date_created: Option<String>,
    #[serde(default)]
    body: Option<String>,
}

impl MessageResource {
    /// The status, when it is one Twilio defines.
    pub fn status(&self) -> Option<MessageStatus> {
        self.raw_status.as_deref()?.parse().ok()
    }

    /// Segments billed; `None` when absent or zero (a Messaging Service reports 0 at first).
    pub fn segments(&self) -> Option<u32> {
        self.num_segments
            .as_deref()?
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
    }

    /// When Twilio created it.
    pub fn created_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(self.date_created.as_deref()?, &Rfc2822).ok()
    }

    /// Whether the message's text is exactly `body` (false when Twilio returned none).
    pub fn body_is(&self, body: &str) -> bool {
        self.body.as_deref() == Some(body)
    }
}

impl fmt::Debug for MessageResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageResource")
            .field("sid", &self.sid)
            .field("status", &self.raw_status)
            .field("to", &self.to.as_deref().map(mask_phone))
            .field("num_segments", &self.num_segments)
            .field("error_code", &self.error_code)
            .field("date_created", &self.date_created)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    messages: Vec<MessageResource>,
    #[serde(default)]
    next_page_uri: Option<String>,
}

/// Twilio's error body: `{code, message, more_info, status}`.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    more_info: Option<String>,
}

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Twilio answered with an error status (and usually an error code).
    #[error("Twilio answered HTTP {http_status} (error code {})", code.map_or_else(|| "none".to_owned(), |c| c.to_string()))]
    Rejected {
        /// HTTP status.
        http_status: u16,
        /// Twilio error code from the body, e.g. 21610.
        code: Option<u32>,
        /// Twilio's documentation link for the code.
        more_info: Option<String>,
    },
    /// No answer within the timeout: the request may or may not have been acted on.
    #[error("Twilio did not answer within {0:?}")]
    Timeout(Duration),
    /// No connection could be made: the request never reached Twilio.
    #[error("could not connect to the Twilio API")]
    Connect(#[source] reqwest::Error),
    /// The connection failed mid-request: the request may or may not have been acted on.
    #[error("the request to the Twilio API failed")]
    Transport(#[source] reqwest::Error),
    /// Twilio answered success with a body that is not a Message resource.
    #[error("the Twilio API's answer could not be read")]
    Decode(#[source] serde_json::Error),
    /// The HTTP client could not be built.
    #[error("the Twilio HTTP client could not be built")]
    Setup(#[source] reqwest::Error),
}

impl ApiError {
    /// What JOSH does about it: the error code and HTTP status decide a rejection; timeouts and
    /// network failures are retried.
    pub fn action(&self) -> ErrorAction {
        match self {
            Self::Rejected {
                http_status, code, ..
            } => action_for_response(*http_status, *code),
            Self::Timeout(_) | Self::Connect(_) | Self::Transport(_) | Self::Decode(_) => {
                ErrorAction::RetryLater
            }
            Self::Setup(_) => ErrorAction::Fail,
        }
    }

    /// Whether Twilio may have created the message although the call failed (so a retry must
    /// first look for it).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout(_) | Self::Transport(_) | Self::Decode(_)
        )
    }

    /// The HTTP status Twilio answered with, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Rejected { http_status, .. } => Some(*http_status),
            _ => None,
        }
    }

    /// The Twilio error code, if the answer had one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Rejected { code, .. } => *code,
            _ => None,
        }
    }

    /// Whether the resource does not exist (or the endpoint is not offered).
    pub fn is_not_found(&self) -> bool {
        matches!(self.http_status(), Some(404 | 405))
    }
}

/// A Messages API client for one account.
#[derive(Clone)]
pub struct MessagesClient {
    http: reqwest::Client,
    base: String,
    account_sid: String,
    auth_token: SecretString,
    timeout: Duration,
}

impl fmt::Debug for MessagesClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessagesClient")
            .field("base", &self.base)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl MessagesClient {
    /// A client for `account_sid` against `base` (e.g. [`DEFAULT_API_BASE`] or the simulator),
    /// giving each request `timeout`.
    ///
    /// # Errors
    /// [`ApiError::Setup`] when the HTTP client cannot be built.
    pub fn new(
        base: &str,
        account_sid: &str,
        auth_token: SecretString,
        timeout: Duration,
    ) -> Result<Self, ApiError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("josh-twilio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ApiError::Setup)?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token,
            timeout,
        })
    }

    fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base, self.account_sid
        )
    }

    /// Creates (sends) a message: `POST .../Messages.json`, answered 201.
    ///
    /// # Errors
    /// [`ApiError`]; see [`ApiError::action`] and [`ApiError::outcome_unknown`].
    pub async fn create(&self, message: &CreateMessage) -> Result<MessageResource, ApiError> {
        let validity = message.validity_period.map(|v| v.to_string());
        let mut form: Vec<(&str, &str)> = vec![("To", &message.to)];
        form.push(match &message.sender {
            Sender::From(number) => ("From", number),
            Sender::MessagingService(sid) => ("MessagingServiceSid", sid),
        });
        form.push(("Body", message.body.expose_secret()));
        if let Some(url) = &message.status_callback {
            form.push(("StatusCallback", url));
        }
        if let Some(seconds) = &validity {
            form.push(("ValidityPeriod", seconds));
        }
        self.call(self.http.post(self.messages_url()).form(&form))
            .await
    }

    /// Fetches a message by SID: `GET .../Messages/{sid}.json`.
    ///
    /// # Errors
    /// [`ApiError`]; a 404 for an unknown SID.
    pub async fn fetch(&self, sid: &str) -> Result<MessageResource, ApiError> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages/{sid}.json",
            self.base, self.account_sid
        );
        self.call(self.http.get(url)).await
    }

    /// Messages to `to` created at or after `since`, newest first: `GET .../Messages.json?To=`,
    /// following pages while they reach back to `since`.
    ///
    /// # Errors
    /// [`ApiError`]; 404/405 ([`ApiError::is_not_found`]) when the API offers no list.
    pub async fn list_to(
        &self,
        to: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<MessageResource>, ApiError> {
        let mut found = Vec::new();
        let mut request = self
            .http
            .get(self.messages_url())
            .query(&[("To", to), ("PageSize", "50")]);
        for _ in 0..MAX_LIST_PAGES {
            let page: ListPage = self.call(request).await?;
            let reached_back = page
                .messages
                .last()
                .and_then(MessageResource::created_at)
                .is_some_and(|at| at < since);
            found.extend(
                page.messages
                    .into_iter()
                    .filter(|m| m.created_at().is_none_or(|at| at >= since)),
            );
            match page.next_page_uri {
                Some(next) if !reached_back && next.starts_with('/') => {
                    request = self.http.get(format!("{}{next}", self.base));
                }
                _ => break,
            }
        }
        Ok(found)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = request
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.classify(e))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(ApiError::Decode);
        }
        let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        Err(ApiError::Rejected {
            http_status: status.as_u16(),
            code: body.as_ref().and_then(|b| b.code),
            more_info: body.and_then(|b| b.more_info),
        })
    }

    /// Sorts a transport failure; the URL (which may hold a recipient number) is dropped.
    fn classify(&self, error: reqwest::Error) -> ApiError {
        let error = error.without_url();
        if error.is_connect() {
            ApiError::Connect(error)
        } else if error.is_timeout() {
            ApiError::Timeout(self.timeout)
        } else {
            ApiError::Transport(error)
        }
    }
}

/// A phone number with all but its first two and last two characters masked.
fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if n > 4 && (i < 2 || i + 2 >= n) {
                *c
            } else {
                '*'
            }
        })
        .collect()
}
