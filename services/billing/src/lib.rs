//! Stripe subscriptions to entitlements: webhooks in (stored once, processed from the newest truth), checkout and portal links out.
//!
//! A library with a thin `main.rs`: [`Config::from_env`], then [`Service::build`], then
//! [`Service::run_until_stopped`].
//!
//! - [`webhook`]: `POST /v1/stripe/webhook` verifies ([`signature`]) and stores events.
//! - [`process`]: a worker applies stored events ([`wire`]) to subscriptions and derives
//!   entitlements ([`entitlement`]), announcing each change ([`notify`]).
//! - [`reconcile`]: every 15 minutes, live subscriptions are re-fetched from Stripe ([`stripe`]).
//! - [`grpc`] and [`admin`]: the `Billing` and `BillingAdmin` gRPC APIs, both on `GRPC_ADDR`.
//! - [`erasure`]: a deleted account's billing data scrubbed, its subscription canceled at Stripe.

pub mod admin;
pub mod config;
pub mod entitlement;
pub mod erasure;
pub mod error;
pub mod grpc;
mod metrics;
pub mod notify;
pub mod process;
pub mod reconcile;
pub mod signature;
pub mod store;
pub mod stripe;
pub mod webhook;
pub mod wire;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;

use platform::clock::{SharedClock, SystemClock};
use platform::{HostError, ServiceHost};
use secrecy::ExposeSecret as _;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "billing";

/// A built, not yet running, billing.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    config: Config,
    clock: SharedClock,
    grpc: tokio::net::TcpListener,
}

impl Service {
    /// Binds the listener and creates the connections. Postgres and NATS may still be down:
    /// `/readyz` reports them until they are reachable.
    ///
    /// # Errors
    /// [`HostError`] when the listener cannot bind.
    pub async fn build(config: Config) -> Result<Self, HostError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Service::build`], reading `clock`.
    ///
    /// # Errors
    /// [`HostError`] when the listener cannot bind.
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

    /// The bound HTTP address (useful with `HTTP_ADDR=127.0.0.1:0`).
    pub fn http_addr(&self) -> SocketAddr {
        self.host.local_addr()
    }

    /// The bound gRPC address (useful with `GRPC_ADDR=127.0.0.1:0`).
    ///
    /// # Errors
    /// The listener's error if its address cannot be read.
    pub fn grpc_addr(&self) -> std::io::Result<SocketAddr> {
        self.grpc.local_addr()
    }

    /// Serves HTTP, processes stored events, reconciles and relays this service's outbox until
    /// `shutdown` fires, then drains in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let pool = self.host.pool().clone();
        // Building the HTTP client fails only if TLS cannot initialise: a broken host.
        let stripe = stripe::StripeClient::new(
            &self.config.stripe_api_base,
            self.config.stripe_secret_key.clone(),
        )
        .map_err(|e| HostError::Serve(std::io::Error::other(e)))?;
        let processor = process::Processor::new(
            pool.clone(),
            self.config.keyring.clone(),
            self.clock.clone(),
            stripe,
        );
        let api = grpc::BillingApi::new(
            pool.clone(),
            processor.stripe().clone(),
            self.clock.clone(),
            self.config.stripe_prices.clone(),
            self.config.public_base_url.clone(),
        );
        let admin_api = admin::BillingAdminApi::new(pool.clone(), self.clock.clone());
        let incoming = tonic::transport::server::TcpIncoming::from(self.grpc);
        let wake = Arc::new(Notify::new());
        let routes = webhook::router(webhook::WebhookState {
            pool,
            secret: self.config.stripe_webhook_secret.clone(),
            clock: self.clock.clone(),
            signature_clock: Arc::new(SystemClock),
            wake: wake.clone(),
        });
        let erasure = erasure::ErasureHandler::new(self.clock.clone(), processor.stripe().clone());
        let dlq_pool = self.host.pool().clone();
        let reconcile_interval = self.config.reconcile_interval;
        let start = move |bus: &bus::ServiceBus, shutdown: &CancellationToken| {
            let dead_letters =
                dlq_admin::DeadLettersApi::new(dlq_pool, bus.jetstream().clone(), SERVICE);
            let erase = bus.consume(erasure::consumer(), erasure, shutdown.clone());
            let stop = shutdown.clone();
            let serve_grpc = async move {
                let served = tonic::transport::Server::builder()
                    .add_service(api.into_server())
                    .add_service(admin_api.into_server())
                    .add_service(dead_letters.into_server())
                    .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                    .await;
                if let Err(error) = served {
                    tracing::error!(error = %platform::errors::ErrorChain(&error), "gRPC server failed");
                }
            };
            let mut tasks = vec![
                tokio::spawn(serve_grpc),
                tokio::spawn(erase),
                tokio::spawn(worker::run(processor.clone(), wake, shutdown.clone())),
            ];
            if let Some(period) = reconcile_interval {
                tasks.push(tokio::spawn(reconcile::run(
                    processor,
                    period,
                    shutdown.clone(),
                )));
            }
            tasks
        };
        bus::run_service(
            self.host,
            SERVICE,
            self.config.common.nats_stream_replicas,
            routes,
            start,
            shutdown,
        )
        .await
    }
}

/// One reconciliation pass, then return (`billing reconcile`, for a scheduler such as a
/// Kubernetes CronJob when `BILLING_RECONCILE_INTERVAL_SECS=0` turns the in-process pass off).
/// Needs only Postgres and Stripe: no listener, no NATS.
///
/// # Errors
/// [`BillingError`](error::BillingError) when the pass cannot start or cannot list its work;
/// single subscriptions that fail are counted in the report and left for the next pass.
pub async fn reconcile_once(
    config: &Config,
    clock: SharedClock,
) -> Result<reconcile::Report, error::BillingError> {
    let options: sqlx::postgres::PgConnectOptions =
        config.common.database_url.expose_secret().parse()?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_lazy_with(options.application_name("billing-reconcile"));
    let stripe =
        stripe::StripeClient::new(&config.stripe_api_base, config.stripe_secret_key.clone())?;
    let processor = process::Processor::new(pool.clone(), config.keyring.clone(), clock, stripe);
    let report = reconcile::pass(&processor).await?;
    pool.close().await;
    Ok(report)
}
