//! The runtime shell of a service: its HTTP listener, Postgres pool and NATS client, served
//! until shutdown with health, readiness and metrics routes added.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

use crate::config::CommonConfig;
use crate::health::{self, Readiness, StartupGate};

/// Errors starting or running a service host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The HTTP listener could not bind.
    #[error("binding the HTTP listener on {addr} failed")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `DATABASE_URL` could not be turned into connection options.
    #[error("DATABASE_URL is not a usable Postgres URL")]
    DatabaseUrl(#[source] sqlx::Error),
    /// The NATS client could not be created (bad address; an unreachable server is retried).
    #[error("creating the NATS client failed")]
    Nats(#[from] async_nats::ConnectError),
    /// The HTTP server failed while running.
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
}

/// A service's listener and connections. Dependencies may be down at start: the pool connects
/// lazily and NATS keeps retrying, while `/readyz` answers 503 until both are reachable.
#[derive(Debug)]
pub struct ServiceHost {
    name: &'static str,
    listener: TcpListener,
    pool: PgPool,
    nats: async_nats::Client,
    startup: StartupGate,
}

impl ServiceHost {
    /// Binds the HTTP listener (`HTTP_ADDR`, port 0 for an ephemeral port) and creates the
    /// Postgres pool and NATS client for service `name`.
    ///
    /// # Errors
    /// [`HostError`] when the listener cannot bind or a URL is unusable.
    pub async fn start(name: &'static str, common: &CommonConfig) -> Result<Self, HostError> {
        // Install the metrics recorder before anything can record.
        crate::metrics::prometheus();
        let addr = common.http_addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| HostError::Bind { addr, source })?;
        let options: PgConnectOptions = common
            .database_url
            .expose_secret()
            .parse()
            .map_err(HostError::DatabaseUrl)?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options.application_name(name));
        let nats = async_nats::ConnectOptions::new()
            .name(name)
            .retry_on_initial_connect()
            .connect(common.nats_url.as_str())
            .await?;
        tracing::info!(service = name, http_addr = %listener_addr(&listener), "service host started");
        Ok(Self {
            name,
            listener,
            pool,
            nats,
            startup: StartupGate::default(),
        })
    }

    /// The address the HTTP listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        listener_addr(&self.listener)
    }

    /// The Postgres pool (connected as the service's own role).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The NATS client.
    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    /// The start-up work `/readyz` waits for: workers hold it until they can do their job.
    pub fn startup(&self) -> &StartupGate {
        &self.startup
    }

    /// Serves `routes` plus `/healthz`, `/readyz` and `/metrics` until `shutdown` fires, then
    /// finishes in-flight requests, flushes NATS and closes the pool.
    ///
    /// # Errors
    /// [`HostError::Serve`] when the server fails.
    pub async fn serve(self, routes: Router, shutdown: CancellationToken) -> Result<(), HostError> {
        let readiness = Readiness {
            pool: self.pool.clone(),
            nats: self.nats.clone(),
            required_schema: schema::required_version(),
            startup: self.startup.clone(),
        };
        let app = routes
            .merge(health::routes(readiness))
            .layer(axum::middleware::from_fn(crate::metrics::track_http))
            .layer(TraceLayer::new_for_http());
        // Peer addresses reach handlers (ConnectInfo) for per-client limits.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .map_err(HostError::Serve);
        tracing::info!(service = self.name, "draining connections");
        if tokio::time::timeout(Duration::from_secs(5), self.nats.flush())
            .await
            .is_err()
        {
            tracing::warn!(service = self.name, "NATS flush timed out during shutdown");
        }
        self.pool.close().await;
        tracing::info!(service = self.name, "stopped");
        served
    }
}

fn listener_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}
