//! Sends every SMS: job-backed and idempotent, suppression and quiet hours first, through
//! Twilio's Messages API with per-sender rate limits and retries.
//!
//! A library with a thin `main.rs`: [`Config::from_env`], then [`Service::build`], then
//! [`Service::run_until_stopped`].
//!
//! - [`intake`]: `outbound.send_sms` → one `sms_outbound_jobs` row per idempotency key
//!   (suppressed at once for opted-out or unusable numbers; quiet hours set its `run_at`).
//! - [`send`](Outbound::run_workers): workers claim due jobs under a lease, wait for the
//!   sender's token bucket ([`rate`]), call Twilio and record the outcome in one transaction.
//! - [`status`]: forward-only statuses from callbacks and reconciliation; carrier errors
//!   suppress numbers or pause the sender.
//! - [`optout`]: the router's opt-out / opt-in events feed the suppression list.
//!
//! Every time decision reads one injectable clock ([`Service::build_with_clock`]).

mod config;
mod engine;
pub mod error;
mod events;
pub mod intake;
pub mod optout;
mod purpose;
pub mod quiet;
pub mod rate;
mod send;
mod settle;
pub mod status;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use platform::clock::{SharedClock, SystemClock};
use platform::config::TwilioSender;
use platform::{HostError, ServiceHost};
use tokio_util::sync::CancellationToken;
use twilio::client::{MessagesClient, Sender};

pub use config::{Config, Tuning};
pub use engine::{JOBS_CHANNEL, Outbound, Parts, Settings};

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "outbound-sender";

/// Errors starting the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The listener or connections could not be set up.
    #[error(transparent)]
    Host(#[from] HostError),
    /// The Twilio client could not be built.
    #[error("the Twilio client could not be built")]
    Twilio(#[from] twilio::client::ApiError),
}

/// A built, not yet running, outbound-sender.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    outbound: Outbound,
    replicas: usize,
}

impl Service {
    /// Binds the listener and creates the connections. Postgres and NATS may still be down:
    /// `/readyz` reports them until they are reachable.
    ///
    /// # Errors
    /// [`ServiceError`] when the listener cannot bind or the Twilio client cannot be built.
    pub async fn build(config: Config) -> Result<Self, ServiceError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Service::build`], reading `clock` (tests and the demo move time).
    ///
    /// # Errors
    /// As [`Service::build`].
    pub async fn build_with_clock(
        config: Config,
        clock: SharedClock,
    ) -> Result<Self, ServiceError> {
        let host = ServiceHost::start(SERVICE, &config.common).await?;
        let client = MessagesClient::new(
            &config.twilio_api_base,
            &config.twilio_account_sid,
            config.twilio_auth_token.clone(),
            config.tuning.twilio_timeout,
        )?;
        let sender = match &config.twilio_sender {
            TwilioSender::From(number) => Sender::From(number.clone()),
            TwilioSender::MessagingService(sid) => Sender::MessagingService(sid.clone()),
        };
        let settings = Settings::new(sender, &config.public_base_url, &config.tuning);
        let outbound = Outbound::new(Parts {
            pool: host.pool().clone(),
            keyring: config.keyring,
            pepper: config.phone_pepper,
            client,
            clock,
            settings,
        });
        Ok(Self {
            host,
            outbound,
            replicas: config.common.nats_stream_replicas,
        })
    }

    /// The bound HTTP address (useful with `HTTP_ADDR=127.0.0.1:0`).
    pub fn http_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// Serves HTTP, relays the outbox, consumes commands and statuses, sends and reconciles
    /// until `shutdown` fires, then drains in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let outbound = self.outbound;
        let start = |bus: &bus::ServiceBus, shutdown: &CancellationToken| {
            vec![tokio::spawn(
                outbound.run(bus.jetstream().clone(), shutdown.clone()),
            )]
        };
        bus::run_service(
            self.host,
            SERVICE,
            self.replicas,
            Router::new(),
            start,
            shutdown,
        )
        .await
    }
}
