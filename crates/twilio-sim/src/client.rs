//! A client for one simulated phone (`/sim/phones/{number}/...`), as `joshctl phone` uses it.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::wire::{Health, InboxMessage, PhoneSend, PhoneSent, SimError};

/// Why a phone call to the simulator failed.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// Nothing answered at the simulator's address.
    #[error("cannot reach the Twilio simulator at {base}: {source}")]
    Unreachable {
        /// The simulator's base URL.
        base: String,
        /// The connection error.
        #[source]
        source: reqwest::Error,
    },
    /// The simulator answered with an error.
    #[error("the Twilio simulator answered {status}: {message}")]
    Refused {
        /// Its HTTP status.
        status: u16,
        /// Its error text.
        message: String,
    },
    /// The answer was not the JSON expected.
    #[error("unexpected answer from the Twilio simulator: {0}")]
    Decode(#[source] reqwest::Error),
}

/// One simulated phone.
#[derive(Debug, Clone)]
pub struct PhoneClient {
    http: reqwest::Client,
    base: String,
    number: String,
}

impl PhoneClient {
    /// The phone `number` (E.164) on the simulator at `base` (e.g. `http://127.0.0.1:8091`).
    pub fn new(base: &str, number: &str) -> Self {
        twilio::client::install_crypto_provider();
        Self {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            number: number.to_owned(),
        }
    }

    /// The phone's number.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// `GET /sim/health`: the simulator is up (and may know JOSH's number).
    ///
    /// # Errors
    /// [`PhoneError::Unreachable`] or [`PhoneError::Refused`].
    pub async fn health(&self) -> Result<Health, PhoneError> {
        let request = self
            .http
            .get(format!("{}/sim/health", self.base))
            .timeout(Duration::from_secs(5));
        self.call(request).await
    }

    /// Texts `body` to `to`; the answer says what JOSH's webhook answered.
    ///
    /// # Errors
    /// The simulator is unreachable, or could not deliver the webhook ([`PhoneError::Refused`]).
    pub async fn send(&self, to: &str, body: &str) -> Result<PhoneSent, PhoneError> {
        let request = self
            .http
            .post(format!("{}/sim/phones/{}/send", self.base, self.number))
            .json(&PhoneSend {
                to: to.to_owned(),
                body: body.to_owned(),
                messaging_service_sid: None,
                sid: None,
            })
            .timeout(Duration::from_secs(30));
        self.call(request).await
    }

    /// Posts the webhook of an earlier text again, with its MessageSid `sid` (a duplicate
    /// delivery, as Twilio retries).
    ///
    /// # Errors
    /// As [`send`](Self::send); a malformed `sid` is refused.
    pub async fn resend(&self, to: &str, body: &str, sid: &str) -> Result<PhoneSent, PhoneError> {
        let request = self
            .http
            .post(format!("{}/sim/phones/{}/send", self.base, self.number))
            .json(&PhoneSend {
                to: to.to_owned(),
                body: body.to_owned(),
                messaging_service_sid: None,
                sid: Some(sid.to_owned()),
            })
            .timeout(Duration::from_secs(30));
        self.call(request).await
    }

    /// Messages received after inbox index `after` (all when `None`), waiting up to `wait` for
    /// a first one (an empty list when none came).
    ///
    /// # Errors
    /// The simulator is unreachable or answered with an error.
    pub async fn inbox(
        &self,
        after: Option<usize>,
        wait: Duration,
    ) -> Result<Vec<InboxMessage>, PhoneError> {
        let mut url = format!(
            "{}/sim/phones/{}/messages?wait={}",
            self.base,
            self.number,
            wait.as_secs_f64()
        );
        if let Some(after) = after {
            url.push_str(&format!("&after={after}"));
        }
        let request = self.http.get(url).timeout(wait + Duration::from_secs(10));
        self.call(request).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, PhoneError> {
        let response = request
            .send()
            .await
            .map_err(|source| PhoneError::Unreachable {
                base: self.base.clone(),
                source,
            })?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            let message = serde_json::from_str::<SimError>(&text)
                .map(|e| e.error)
                .unwrap_or(text);
            return Err(PhoneError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        response.json().await.map_err(PhoneError::Decode)
    }
}
