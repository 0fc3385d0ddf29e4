//! Twilio's webhooks in: inbound messages and delivery status callbacks, verified, stored once, encrypted, and published as events.
//!
//! A library with a thin `main.rs`: [`Config::from_env`], then [`Service::build`], then
//! [`Service::run_until_stopped`].
//!
//! - [`webhooks`]: the routes, the checks every request passes, and the handlers (which own
//!   each transaction).
//! - [`store`]: the SQL, one small function per statement, run in the handler's transaction.
//! - [`events`]: the `sms.received` and `sms.status_reported` envelopes.
//! - [`erasure`]: `identity.user_deleted` scrubs the person's texts.
//! - [`admin`]: the `InboundAdmin` gRPC API on `GRPC_ADDR`: a person's texts (bodies only for
//!   support and engineering, with a reason) and their export.
//! - [`metrics`]: accepted / duplicate / rejected / failed counters and the latency histogram.
//! - [`Error`]: the one error type, and the HTTP answer for each case.

pub mod admin;
mod config;
pub mod erasure;
mod error;
pub mod events;
pub mod group;
pub mod metrics;
pub mod received;
pub mod statuses;
pub mod store;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use platform::clock::{SharedClock, SystemClock};
use platform::{HostError, ServiceHost};
use tokio_util::sync::CancellationToken;

pub use config::Config;
pub use error::Error;
pub use webhooks::{WebhookState, router};

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "inbound-sms";

/// The consumer of `identity.user_deleted`, ordered per user.
///
/// # Panics
/// Never: the type is in the payload catalog (checked by a test).
pub fn erasure_consumer() -> bus::ConsumerSpec {
    let payload = proto::catalog::by_type_name("identity.user_deleted")
        .unwrap_or_else(|| unreachable!("identity.user_deleted is in the payload catalog"));
    bus::ConsumerSpec::ordered(SERVICE, payload)
}

/// A built, not yet running, inbound-sms.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    config: Config,
    clock: SharedClock,
    grpc: tokio::net::TcpListener,
}

impl Service {
    /// Binds the listeners and creates the connections. Postgres and NATS may still be down:
    /// `/readyz` reports them until they are reachable.
    ///
    /// # Errors
    /// [`HostError`] when a listener cannot bind.
    pub async fn build(config: Config) -> Result<Self, HostError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Service::build`], reading `clock` (tests and the demo move time).
    ///
    /// # Errors
    /// As [`Service::build`].
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<Self, HostError> {
        let host = ServiceHost::start(SERVICE, &config.common).await?;
        let grpc = tokio::net::TcpListener::bind(config.grpc_addr)
            .await
            .map_err(|source| HostError::Bind {
                addr: config.grpc_addr,
                source,
            })?;
        Ok(Self {
            host,
            config,
            clock,
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

    /// Serves HTTP and the admin gRPC API, relays this service's outbox and consumes deletions
    /// until `shutdown` fires, then drains in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let replicas = self.config.common.nats_stream_replicas;
        let routes = router(
            WebhookState::new(
                self.host.pool().clone(),
                &self.config,
                Some(bus::RelayWaker::new(self.host.nats().clone(), SERVICE)),
            )
            .with_clock(self.clock),
        );
        let admin_api =
            admin::InboundAdminApi::new(self.host.pool().clone(), self.config.keyring.clone());
        let incoming = tonic::transport::server::TcpIncoming::from(self.grpc);
        let dlq_pool = self.host.pool().clone();
        bus::run_service(
            self.host,
            SERVICE,
            replicas,
            routes,
            |bus, shutdown| {
                let dead_letters =
                    dlq_admin::DeadLettersApi::new(dlq_pool, bus.jetstream().clone(), SERVICE);
                vec![
                    tokio::spawn(serve_admin(
                        admin_api,
                        dead_letters,
                        incoming,
                        shutdown.clone(),
                    )),
                    tokio::spawn(bus.consume(
                        erasure_consumer(),
                        erasure::ErasureHandler,
                        shutdown.clone(),
                    )),
                ]
            },
            shutdown,
        )
        .await
    }
}

/// Serves the admin gRPC APIs (InboundAdmin, DeadLetters) on `incoming` until `shutdown` fires
/// (in-flight calls finish).
async fn serve_admin(
    api: admin::InboundAdminApi,
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
