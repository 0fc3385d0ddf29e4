//! A local, Twilio-compatible SMS simulator, so JOSH runs (and is tested) with no Twilio account.
//!
//! It serves Twilio's Messages API (`POST`/`GET /2010-04-01/Accounts/{AccountSid}/Messages.json`,
//! `GET .../Messages/{Sid}.json`) with Twilio's request and response shapes, basic auth and error
//! bodies; moves each created message through its statuses (`queued` in the create answer, then
//! `sent` → `delivered`, or `undelivered`/`failed` with an `ErrorCode`), posting every later status
//! to the message's `StatusCallback` signed with [`twilio::signature::sign`]; and delivers each
//! message to a simulated phone. Phones text JOSH through [`Simulator::send_inbound`] (or
//! `POST /sim/phones/{number}/send`), which posts a signed incoming-message webhook like Twilio's.
//! Faults (errors on create, opted-out or unreachable numbers, slow answers, lost callbacks) are
//! injected through methods here or `POST /sim/faults` ([`wire`]). Everything lives in memory.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use twilio_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig {
//!     inbound_webhook_url: Some("http://127.0.0.1:8081/v1/twilio/sms".into()),
//!     ..SimConfig::new("AC00000000000000000000000000000000", "token")
//! })
//! .await?;
//! // Point TWILIO_API_BASE at sim.base_url(); then:
//! sim.send_inbound("+15555550100", "+15005550006", "hi JOSH").await?;
//! # Ok(()) }
//! ```

mod api;
pub mod client;
mod control;
mod inbound;
mod lifecycle;
mod resource;
mod state;
mod validate;
pub mod wire;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use twilio::status::MessageStatus;

pub use resource::ApiError;
pub use state::{NumberBehavior, SimMessage};

use state::{InjectedError, Store};

/// How a [`Simulator`] starts.
#[derive(Clone)]
pub struct SimConfig {
    /// The account the API accepts (`AC` + 32 hex digits in the path and as basic-auth user).
    pub account_sid: String,
    /// The basic-auth password, and the key every webhook and callback is signed with.
    pub auth_token: String,
    /// Where to listen; `127.0.0.1:0` picks a free port (see [`Simulator::base_url`]).
    pub listen: SocketAddr,
    /// Where inbound messages are posted, e.g. `http://127.0.0.1:8081/v1/twilio/sms`.
    pub inbound_webhook_url: Option<String>,
    /// Move messages through their statuses (and post the callbacks) after create.
    pub auto_callbacks: bool,
    /// The time between two automatic statuses.
    pub callback_delay: Duration,
}

impl SimConfig {
    /// A config for this account: listening on a free loopback port, no inbound webhook,
    /// automatic callbacks 50 ms apart.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        Self {
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            inbound_webhook_url: None,
            auto_callbacks: true,
            callback_delay: Duration::from_millis(50),
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("listen", &self.listen)
            .field("inbound_webhook_url", &self.inbound_webhook_url)
            .field("auto_callbacks", &self.auto_callbacks)
            .field("callback_delay", &self.callback_delay)
            .finish()
    }
}

/// What the server's handlers and background tasks share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub account_sid: String,
    pub auth_token: String,
    pub inbound_webhook_url: Option<String>,
    pub callback_delay: Duration,
    pub store: Store,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
}

/// A running simulator. The server runs on a spawned task and stops when this handle is dropped
/// or [`shutdown`](Simulator::shutdown) is called.
#[derive(Debug)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Binds `config.listen` and starts serving.
    ///
    /// # Errors
    /// The address cannot be bound, or the HTTP client cannot be built.
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        // reqwest is built with rustls but no crypto provider: install the shared one.
        twilio::client::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent("TwilioProxy/1.1")
            .build()
            .context("cannot build the HTTP client")?;
        let shared = Arc::new(Shared {
            account_sid: config.account_sid,
            auth_token: config.auth_token,
            inbound_webhook_url: config.inbound_webhook_url,
            callback_delay: config.callback_delay,
            store: Store::new(config.auto_callbacks),
            http,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        });
        let router = api::routes(Arc::clone(&shared))
            .merge(control::routes())
            .with_state(Arc::clone(&shared));
        let stop = shared.shutdown.clone().cancelled_owned();
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(stop)
                .await
            {
                tracing::error!(error = %error, "twilio-sim server failed");
            }
        });
        tracing::info!(addr = %addr, account_sid = %shared.account_sid, "twilio-sim listening");
        Ok(Simulator {
            shared,
            addr,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`: what `TWILIO_API_BASE` is set to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message created through the API, in creation order, as it is now.
    pub fn messages(&self) -> Vec<SimMessage> {
        self.shared.store.messages()
    }

    /// Every message a simulated phone sent to JOSH, in order.
    pub fn inbound_messages(&self) -> Vec<SimMessage> {
        self.shared.store.inbound()
    }

    /// One message by SID.
    pub fn message(&self, sid: &str) -> Option<SimMessage> {
        self.shared.store.message(sid)
    }

    /// How many creates were accepted (answered 201).
    pub fn create_count(&self) -> usize {
        self.shared.store.create_count()
    }

    /// How many create requests are being handled right now: received, and neither answered nor
    /// abandoned by their client. With [`set_create_delay`](Self::set_create_delay), a test
    /// waits for 0 to know a held answer is over (instead of sleeping past the delay).
    pub fn creates_in_flight(&self) -> usize {
        self.shared.store.creates_in_flight()
    }

    /// How many created messages are still moving through their statuses on their own. At 0,
    /// every status callback the simulator was going to post has been posted and answered: a
    /// test's positive signal before asserting that no (further) callback came.
    pub fn lifecycles_running(&self) -> usize {
        self.shared.tasks.len()
    }

    /// How many phone inbox requests (`GET /sim/phones/{number}/messages`) are in progress; a
    /// long poll stays in progress until a delivery or the end of its wait. A test waits for
    /// one before delivering, to see the poll woken by the delivery.
    pub fn inbox_polls_waiting(&self) -> usize {
        self.shared.store.inbox_waiters()
    }

    /// The next `n` creates answer `http_status` with a Twilio error body whose `code` is
    /// `code` (`null` when `None`); nothing is created. Replaces any failures still pending.
    pub fn fail_next_creates(&self, n: usize, http_status: u16, code: Option<u32>) {
        let error = InjectedError { http_status, code };
        self.shared.store.fail_next_creates(n, error);
    }

    /// How the carrier treats messages to `to` from now on: [`NumberBehavior::OptedOut`] makes
    /// create answer 400 with 21610; [`NumberBehavior::Unreachable`] accepts, then `sent` and
    /// `undelivered` with that `ErrorCode`; [`NumberBehavior::Fail`] accepts, then `failed`.
    pub fn set_number_behavior(&self, to: &str, behavior: NumberBehavior) {
        self.shared.store.set_behavior(to, behavior);
    }

    /// Holds every create answer back by `delay`. The message is accepted first, so a client
    /// that gives up waiting has still sent it (like a lost Twilio response).
    pub fn set_create_delay(&self, delay: Duration) {
        self.shared.store.set_create_delay(delay);
    }

    /// Whether messages created from now on move through their statuses by themselves. When
    /// off, they stay in their first status until [`fire_status`](Self::fire_status).
    pub fn set_auto_callbacks(&self, on: bool) {
        self.shared.store.set_auto_callbacks(on);
    }

    /// When on, statuses still move forward (and phones still receive) but no callback is
    /// posted: for reconciliation tests where Twilio's callbacks never arrive.
    pub fn set_drop_callbacks(&self, on: bool) {
        self.shared.store.set_drop_callbacks(on);
    }

    /// The number phones text by default (JOSH's `TWILIO_FROM_NUMBER`), reported by
    /// `GET /sim/health` so `joshctl phone` needs no `--to`.
    pub fn set_josh_number(&self, number: Option<String>) {
        self.shared.store.set_josh_number(number);
    }

    /// Posts a signed status callback for `sid` with `status` now, whatever its stored status
    /// (so tests can send callbacks out of order); the stored status moves only forward.
    /// Returns the HTTP status the callback receiver answered.
    ///
    /// # Errors
    /// Unknown SID, no `StatusCallback` on the message, or the receiver is unreachable.
    pub async fn fire_status(
        &self,
        sid: &str,
        status: MessageStatus,
        error_code: Option<u32>,
    ) -> anyhow::Result<u16> {
        fire_status(&self.shared, sid, status, error_code).await
    }

    /// Posts a signed inbound-message webhook, as Twilio does when `from` texts `to`, to the
    /// configured `inbound_webhook_url`; returns the HTTP status JOSH answered.
    ///
    /// # Errors
    /// No inbound webhook URL configured, or JOSH is unreachable.
    pub async fn send_inbound(&self, from: &str, to: &str, body: &str) -> anyhow::Result<u16> {
        let text = inbound::Inbound {
            from,
            to,
            body,
            messaging_service_sid: None,
            sid: None,
        };
        Ok(inbound::send(&self.shared, text).await?.http_status)
    }

    /// What the phone `number` received: delivered messages to it, in delivery order.
    pub fn phone_messages(&self, number: &str) -> Vec<SimMessage> {
        self.shared
            .store
            .inbox(number, 0)
            .into_iter()
            .map(|(_, message)| message)
            .collect()
    }

    /// Stops the server and every pending status lifecycle, and waits for them.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}

/// See [`Simulator::fire_status`].
pub(crate) async fn fire_status(
    shared: &Shared,
    sid: &str,
    status: MessageStatus,
    error_code: Option<u32>,
) -> anyhow::Result<u16> {
    let message = shared
        .store
        .message(sid)
        .with_context(|| format!("no message {sid}"))?;
    let url = message
        .status_callback
        .clone()
        .with_context(|| format!("message {sid} has no StatusCallback"))?;
    let current = shared
        .store
        .advance(sid, status, error_code)
        .unwrap_or(message);
    lifecycle::post_status(shared, &url, &current, status, error_code).await
}
