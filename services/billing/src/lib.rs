//! Stripe subscriptions to entitlements: webhooks in (stored once, processed from the newest truth), checkout and portal links out.
//!
//! A library with a thin `main.rs`: [`Config::from_env`], then [`Service::build`], then
//! [`Service::run_until_stopped`].

mod config;

use std::net::SocketAddr;

use axum::Router;
use platform::{HostError, ServiceHost};
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "billing";

/// A built, not yet running, billing.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    config: Config,
}

impl Service {
    /// Binds the listener and creates the connections. Postgres and NATS may still be down:
    /// `/readyz` reports them until they are reachable.
    ///
    /// # Errors
    /// [`HostError`] when the listener cannot bind.
    pub async fn build(config: Config) -> Result<Self, HostError> {
        let host = ServiceHost::start(SERVICE, &config.common).await?;
        Ok(Self { host, config })
    }

    /// The bound HTTP address (useful with `HTTP_ADDR=127.0.0.1:0`).
    pub fn http_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// Serves HTTP and relays this service's outbox until `shutdown` fires, then drains
    /// in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let replicas = self.config.common.nats_stream_replicas;
        bus::run_service(
            self.host,
            SERVICE,
            replicas,
            Router::new(),
            |_, _| Vec::new(),
            shutdown,
        )
        .await
    }
}
