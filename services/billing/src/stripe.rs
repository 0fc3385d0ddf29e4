//! A small client for the parts of Stripe's REST API billing calls (form-encoded requests, JSON
//! answers, HTTP basic auth with the secret key), pointed at `STRIPE_API_BASE`: the real API, or
//! the local simulator in dev and tests.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;

/// What went wrong talking to Stripe.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// The request did not complete.
    #[error("stripe request failed")]
    Http(#[from] reqwest::Error),
    /// Stripe answered with an error status.
    #[error("stripe answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// `error.message` of the answer.
        message: String,
    },
    /// The answer lacks a field.
    #[error("stripe answer lacks {0}")]
    Missing(&'static str),
}

/// The Stripe API client.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    base: String,
    key: SecretString,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl StripeClient {
    /// A client of the API at `base` (no trailing slash) with `key`.
    ///
    /// # Errors
    /// [`StripeError::Http`] when the HTTP client cannot be built.
    pub fn new(base: &str, key: SecretString) -> Result<Self, StripeError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
        })
    }

    /// `GET /v1/<path>`.
    ///
    /// # Errors
    /// [`StripeError`] on transport errors and error answers.
    pub async fn get(&self, path: &str) -> Result<Value, StripeError> {
        let request = self.http.get(format!("{}/v1/{path}", self.base));
        self.send(request).await
    }

    /// `POST /v1/<path>` with a form body, once per `idempotency_key` (Stripe's header).
    ///
    /// # Errors
    /// [`StripeError`] on transport errors and error answers.
    pub async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<Value, StripeError> {
        let request = self
            .http
            .post(format!("{}/v1/{path}", self.base))
            .header("Idempotency-Key", idempotency_key)
            .form(form);
        self.send(request).await
    }

    /// `DELETE /v1/<path>` (e.g. canceling a subscription now). Stripe ignores idempotency keys
    /// on DELETE: callers read the object first so a retry does not act twice.
    ///
    /// # Errors
    /// [`StripeError`] on transport errors and error answers.
    pub async fn delete(&self, path: &str) -> Result<Value, StripeError> {
        let request = self.http.delete(format!("{}/v1/{path}", self.base));
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, StripeError> {
        let response = request
            .basic_auth(self.key.expose_secret(), Some(""))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if status.is_success() {
            return Ok(body);
        }
        Err(StripeError::Status {
            status: status.as_u16(),
            message: body
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        })
    }

    /// The customer of charge `ch_...`.
    ///
    /// # Errors
    /// [`StripeError`]; `Missing` when the charge has no customer.
    pub async fn charge_customer(&self, charge: &str) -> Result<String, StripeError> {
        let charge = self.get(&format!("charges/{charge}")).await?;
        id_of(&charge, "customer").ok_or(StripeError::Missing("customer"))
    }
}

/// A string field or an expanded object's `id`.
pub fn id_of(o: &Value, field: &str) -> Option<String> {
    match o.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(inner) => inner.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}
