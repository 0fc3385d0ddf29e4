//! Twilio's webhooks in: inbound messages and delivery status callbacks, verified, stored once, encrypted, and published as events.
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
pub const SERVICE: &str = "inbound-sms";

/// A built, not yet running, inbound-sms.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    #[allow(dead_code)] // read by the domain work of later issues
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

    /// Serves until `shutdown` fires, then drains in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        self.host.serve(Router::new(), shutdown).await
    }
}
