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
//! - [`erasure`]: `identity.user_deleted` cancels and scrubs the person's texts.
//! - [`optout`]: the router's opt-out / opt-in events feed the suppression list.
//! - [`admin`]: the `SenderAdmin` gRPC API on `GRPC_ADDR`: pause / resume a sender or all of them,
//!   the queue's status, resending a failed job.
//! - [`Outbound::idle_poll_since`]: awaits a worker's look for due jobs that found nothing to
//!   send, the positive signal tests use instead of sleeping.
//!
//! Every time decision reads one injectable clock ([`Service::build_with_clock`]).

pub mod admin;
mod config;
mod engine;
pub mod erasure;
pub mod error;
mod events;
pub mod intake;
mod leases;
pub mod optout;
mod polls;
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
pub use polls::PollMark;

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "outbound-sender";

/// Gauge: 1 while this replica's sender is paused (by Twilio's 30007 / 30034, an admin, or the
/// kill switch), else 0; label `sender`. The `JoshSenderPaused` alert watches it.
pub const PAUSED_GAUGE: &str = "josh_outbound_sender_paused";

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
    grpc: tokio::net::TcpListener,
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
        let grpc = tokio::net::TcpListener::bind(config.grpc_addr)
            .await
            .map_err(|source| HostError::Bind {
                addr: config.grpc_addr,
                source,
            })?;
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
            grpc,
        })
    }

    /// The bound admin gRPC address (useful with `GRPC_ADDR=127.0.0.1:0`).
    ///
    /// # Errors
    /// The listener's error if its address cannot be read.
    pub fn grpc_addr(&self) -> std::io::Result<SocketAddr> {
        self.grpc.local_addr()
    }

    /// The bound HTTP address (useful with `HTTP_ADDR=127.0.0.1:0`).
    pub fn http_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// Serves HTTP and the admin gRPC API, relays the outbox, consumes commands and statuses, sends and reconciles
    /// until `shutdown` fires, then drains in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let outbound = self.outbound;
        let admin_api = admin::SenderAdminApi::new(outbound.clone());
        let pool = self.host.pool().clone();
        let incoming = tonic::transport::server::TcpIncoming::from(self.grpc);
        let start = |bus: &bus::ServiceBus, shutdown: &CancellationToken| {
            let dead_letters =
                dlq_admin::DeadLettersApi::new(pool, bus.jetstream().clone(), SERVICE);
            vec![
                tokio::spawn(serve_admin(
                    admin_api,
                    dead_letters,
                    incoming,
                    shutdown.clone(),
                )),
                tokio::spawn(outbound.run(bus, shutdown.clone())),
            ]
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

/// Serves the admin gRPC APIs (SenderAdmin and DeadLetters) on `incoming` until `shutdown` fires.
async fn serve_admin(
    api: admin::SenderAdminApi,
    dead_letters: dlq_admin::DeadLettersApi,
    incoming: tonic::transport::server::TcpIncoming,
    shutdown: CancellationToken,
) {
    let served = tonic::transport::Server::builder()
        .add_service(api.into_server())
        .add_service(dead_letters.into_server())
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await;
    if let Err(error) = served {
        tracing::error!(error = %platform::errors::ErrorChain(&error), "admin gRPC server failed");
    }
}
