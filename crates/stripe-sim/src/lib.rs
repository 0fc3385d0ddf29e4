//! A local, Stripe-compatible billing simulator, so JOSH's billing story runs (and is tested)
//! offline.
//!
//! It serves the parts of Stripe's API billing calls ([`api`]): customers, checkout sessions,
//! subscriptions (retrieve, list, cancel), billing portal sessions, charges and invoices, with Stripe's
//! shapes, errors, auth and `Idempotency-Key` replays. A checkout session's `url` opens a local
//! page ([`page`]) whose buttons pay, fail the next invoice, renew, cancel, refund or dispute;
//! each action fires the events Stripe would (envelopes shaped like Stripe's, API version
//! 2026-07-29) at the webhook URL, signed with `Stripe-Signature` (`t=...,v1=<HMAC-SHA256 of
//! "t.body">`) and delivered before the action answers. Everything lives in memory.

pub mod api;
pub mod lifecycle;
pub mod page;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use hmac::{Hmac, KeyInit, Mac};
use platform::clock::{Clock as _, SharedClock, SystemClock};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use lifecycle::ActionError;
use state::{Pending, Store};

/// How a [`StripeSim`] starts.
#[derive(Clone)]
pub struct SimConfig {
    /// The API key the API accepts (`STRIPE_SECRET_KEY` of billing).
    pub secret_key: String,
    /// The webhook signing secret (`STRIPE_WEBHOOK_SECRET` of billing).
    pub webhook_secret: String,
    /// Where events are posted, e.g. `http://127.0.0.1:8084/v1/stripe/webhook`.
    pub webhook_url: Option<String>,
    /// Where to listen; `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    /// Stripe's "now" for objects and events (`created`, periods): the system clock, or a test's
    /// manual clock shared with billing. Webhook signatures always carry wall time, as billing's
    /// tolerance check reads wall time.
    pub clock: SharedClock,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("webhook_url", &self.webhook_url)
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

impl SimConfig {
    /// A config with these secrets, listening on a free loopback port, no webhook URL yet.
    pub fn new(secret_key: impl Into<String>, webhook_secret: impl Into<String>) -> Self {
        Self {
            secret_key: secret_key.into(),
            webhook_secret: webhook_secret.into(),
            webhook_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            clock: Arc::new(SystemClock),
        }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    /// Every object.
    pub store: Store,
    secret_key: String,
    webhook_secret: String,
    webhook_url: Mutex<Option<String>>,
    base_url: String,
    http: reqwest::Client,
    clock: SharedClock,
}

impl Shared {
    /// Now, in unix seconds (Stripe's `created`).
    pub fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// Sends `events` one after another, each signed; returns how many were accepted (2xx).
    pub async fn fire(&self, events: Vec<Pending>) -> usize {
        let url = self
            .webhook_url
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let Some(url) = url else {
            tracing::warn!(count = events.len(), "no webhook URL set; events dropped");
            return 0;
        };
        let mut accepted = 0;
        for (kind, object, previous) in events {
            let event = self.envelope(kind, object, previous);
            let body = event.to_string();
            // Stripe signs at delivery by its own wall clock, whatever the simulated time.
            let t = SystemClock.now().unix_timestamp();
            let header = format!(
                "t={t},v1={}",
                sign(&self.webhook_secret, t, body.as_bytes())
            );
            let sent = self
                .http
                .post(&url)
                .header("content-type", "application/json; charset=utf-8")
                .header("Stripe-Signature", header)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => accepted += 1,
                Ok(r) => tracing::warn!(
                    event_type = kind,
                    status = r.status().as_u16(),
                    "webhook refused"
                ),
                Err(error) => tracing::warn!(event_type = kind, %error, "webhook not delivered"),
            }
        }
        accepted
    }

    fn envelope(&self, kind: &str, object: Value, previous: Option<Value>) -> Value {
        let mut data = serde_json::Map::new();
        data.insert("object".to_owned(), object);
        if let Some(previous) = previous {
            data.insert("previous_attributes".to_owned(), previous);
        }
        json!({
            "id": self.store.id("evt"), "object": "event", "api_version": "2026-07-29.dahlia",
            "created": self.now(), "data": data, "livemode": false, "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null }, "type": kind
        })
    }
}

/// Stripe's `v1` signature: hex HMAC-SHA256 over `"{t}.{body}"`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A running simulator; stops on [`StripeSim::shutdown`] or drop.
#[derive(Debug)]
pub struct StripeSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl StripeSim {
    /// Binds `config.listen` and starts serving.
    ///
    /// # Errors
    /// The address cannot be bound or the HTTP client cannot be built.
    pub async fn start(config: SimConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder()
            .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
            .build()
            .context("cannot build the HTTP client")?;
        let shared = Arc::new(Shared {
            store: Store::default(),
            secret_key: config.secret_key,
            webhook_secret: config.webhook_secret,
            webhook_url: Mutex::new(config.webhook_url),
            base_url: format!("http://{addr}"),
            http,
            clock: config.clock,
        });
        let router = api::routes(Arc::clone(&shared))
            .merge(page::routes())
            .with_state(Arc::clone(&shared));
        let stop = CancellationToken::new();
        let stopped = stop.clone().cancelled_owned();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!(%error, "stripe-sim server failed");
            }
        });
        tracing::info!(%addr, "stripe-sim listening");
        Ok(Self {
            shared,
            addr,
            stop,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`: what `STRIPE_API_BASE` is set to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Points webhooks at `url`.
    pub fn set_webhook_url(&self, url: impl Into<String>) {
        *self
            .shared
            .webhook_url
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(url.into());
    }

    /// Every object of a kind (`customer`, `checkout.session`, `subscription`, ...), oldest first.
    pub fn objects(&self, kind: &str) -> Vec<Value> {
        self.shared.store.all(kind)
    }

    /// Pays checkout session `id` (the page's "pay"); returns how many webhooks were accepted.
    ///
    /// # Errors
    /// [`ActionError`] when the session is unknown or not open.
    pub async fn pay(&self, id: &str) -> Result<usize, ActionError> {
        let events = lifecycle::pay(&self.shared, id)?;
        Ok(self.shared.fire(events).await)
    }

    /// Fails the subscription's next invoice now (the page's "fail next invoice").
    ///
    /// # Errors
    /// [`ActionError`] when the subscription is unknown or ended.
    pub async fn fail_next_invoice(&self, sub: &str) -> Result<usize, ActionError> {
        let events = lifecycle::fail_next_invoice(&self.shared, sub)?;
        Ok(self.shared.fire(events).await)
    }

    /// Bills the next period now, successfully (recovers a past_due subscription).
    ///
    /// # Errors
    /// [`ActionError`] when the subscription is unknown or ended.
    pub async fn renew(&self, sub: &str) -> Result<usize, ActionError> {
        let events = lifecycle::renew(&self.shared, sub)?;
        Ok(self.shared.fire(events).await)
    }

    /// Cancels the subscription now (the page's "cancel").
    ///
    /// # Errors
    /// [`ActionError`] when the subscription is unknown or ended.
    pub async fn cancel(&self, sub: &str) -> Result<usize, ActionError> {
        let events = lifecycle::cancel(&self.shared, sub)?;
        Ok(self.shared.fire(events).await)
    }

    /// Refunds (or, with `dispute`, disputes) a charge.
    ///
    /// # Errors
    /// [`ActionError::NotFound`] for an unknown charge.
    pub async fn refund(&self, charge: &str, dispute: bool) -> Result<usize, ActionError> {
        let events = lifecycle::refund_or_dispute(&self.shared, charge, dispute)?;
        Ok(self.shared.fire(events).await)
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for StripeSim {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
