//! JOSH's voice: turns inbound texts into registration, interview, LinkUp and safety state changes and replies; also serves the registration API and the magic-link page.
//!
//! A library with a thin `main.rs`: [`Config::from_env`], then [`Service::build`], then
//! [`Service::run_until_stopped`].

pub mod admin;
pub mod api;
pub mod billing;
pub mod commands;
mod config;
pub mod copy;
pub mod deletion;
pub mod error;
mod events;
pub mod inbound;
pub mod interview;
pub mod invites;
pub mod leaving;
pub mod linkup;
pub mod pipeline;
pub mod post_event;
pub mod reactions;
mod refusals;
mod registration;
pub mod replies;
pub mod safety_commands;
pub mod safety_rules;
mod screening;
pub mod store;
pub mod text;

use std::net::SocketAddr;
use std::sync::Arc;

use bus::ConsumerSpec;
use platform::clock::{SharedClock, SystemClock};
use platform::{HostError, ServiceHost};
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "conversation-router";

/// How often the router's jobs (the dropout nudge) look for due work.
const JOB_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// What the router's use cases share.
#[derive(Debug)]
pub struct Context {
    /// Decrypts inbound bodies, encrypts replies.
    pub keyring: crypto::Keyring,
    /// Every time decision reads this clock.
    pub clock: SharedClock,
    /// The base of links sent by SMS.
    pub public_base_url: String,
    /// Hashes phone numbers (the web path receives them in clear).
    pub phone_pepper: crypto::PhonePepper,
    /// Hashes one-time codes.
    pub otp_key: crypto::OtpKey,
    /// billing's gRPC API.
    pub billing: billing::Billing,
    /// The safety keyword list, re-read every few seconds.
    pub safety_rules: safety_rules::RuleCache,
}

impl Context {
    /// The context for `config`, reading `clock`.
    pub fn new(config: Config, clock: SharedClock) -> Self {
        Self {
            keyring: config.keyring,
            clock,
            public_base_url: config.public_base_url,
            phone_pepper: config.phone_pepper,
            otp_key: config.otp_key,
            billing: billing::Billing::connect_lazy(&config.billing_endpoint),
            safety_rules: safety_rules::RuleCache::default(),
        }
    }
}

/// The router's consumer of inbound texts: ordered per phone. Not batched: a batch's texts are
/// handled one after another in its transaction, and with one transaction per four partitions
/// the reply waited twice as long at 150 texts/s (docs/benchmarks.md, session 12).
pub fn inbound_consumer() -> ConsumerSpec {
    let received = proto::catalog::by_type_name("sms.received")
        .unwrap_or_else(|| unreachable!("sms.received is in the payload catalog"));
    ConsumerSpec::ordered(SERVICE, received)
}

/// A built, not yet running, conversation-router.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    ctx: Arc<Context>,
    replicas: usize,
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

    /// Like [`Service::build`], reading `clock` (tests and the demo move time).
    ///
    /// # Errors
    /// [`HostError`] when the listener cannot bind.
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<Self, HostError> {
        let host = ServiceHost::start(SERVICE, &config.common).await?;
        let replicas = config.common.nats_stream_replicas;
        let grpc = tokio::net::TcpListener::bind(config.grpc_addr)
            .await
            .map_err(|source| HostError::Bind {
                addr: config.grpc_addr,
                source,
            })?;
        Ok(Self {
            host,
            ctx: Arc::new(Context::new(config, clock)),
            replicas,
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

    /// Serves HTTP and the admin gRPC API, consumes inbound texts and relays this service's
    /// outbox until `shutdown` fires, then drains in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let routes = api::routes(api::ApiState {
            pool: self.host.pool().clone(),
            ctx: self.ctx.clone(),
        });
        let handler = inbound::InboundHandler::new(self.ctx.clone());
        let reactions = reactions::ReactionsHandler::new(self.ctx.clone());
        let (pool, ctx) = (self.host.pool().clone(), self.ctx.clone());
        let admin_api = admin::RouterAdminApi::new(pool.clone(), ctx.clone());
        let incoming = tonic::transport::server::TcpIncoming::from(self.grpc);
        let start = |bus: &bus::ServiceBus, shutdown: &CancellationToken| {
            let mut tasks = Vec::new();
            let dead_letters =
                dlq_admin::DeadLettersApi::new(pool.clone(), bus.jetstream().clone(), SERVICE);
            tasks.push(tokio::spawn(serve_admin(
                admin_api,
                dead_letters,
                incoming,
                shutdown.clone(),
            )));
            tasks.push(tokio::spawn(bus.consume(
                inbound_consumer(),
                handler,
                shutdown.clone(),
            )));
            for spec in reactions::consumers() {
                let consume = bus.consume(spec, reactions.clone(), shutdown.clone());
                tasks.push(tokio::spawn(consume));
            }
            let nudges = interview::nudge::run(pool, ctx, JOB_INTERVAL, shutdown.clone());
            tasks.push(tokio::spawn(nudges));
            tasks
        };
        bus::run_service(self.host, SERVICE, self.replicas, routes, start, shutdown).await
    }
}

/// Serves the admin gRPC APIs (RouterAdmin and DeadLetters) on `incoming` until `shutdown` fires.
async fn serve_admin(
    api: admin::RouterAdminApi,
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
