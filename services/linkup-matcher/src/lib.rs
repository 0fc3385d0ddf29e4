//! Forms LinkUps: scores eligible people, invites them in waves, locks groups, schedules reminders and outcome questions, and reveals contacts on a mutual yes.
//!
//! A library with a thin `main.rs`: [`Config::from_env`], then [`Service::build`], then
//! [`Service::run_until_stopped`].
//!
//! [`admin`]: the `MatcherAdmin` gRPC API on `GRPC_ADDR` (show, list and cancel LinkUps; a
//! person's export).

pub mod admin;
pub mod after;
pub mod brief;
pub mod changes;
mod config;
pub mod copy;
pub mod create;
pub mod departure;
pub mod eligibility;
pub mod error;
pub mod lock;
pub mod out;
pub mod pick;
pub mod replies;
pub mod scheduler;
pub mod scoring;
pub mod store;
pub mod timewin;
pub mod waves;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use bus::ConsumerSpec;
use platform::clock::{SharedClock, SystemClock};
use platform::{HostError, ServiceHost};
use tokio_util::sync::CancellationToken;

pub use config::Config;

/// This service's name in logs, metrics, NATS and the event outbox.
pub const SERVICE: &str = "linkup-matcher";

/// How often the timer worker looks for due timers and reminders.
const TIMER_POLL: Duration = Duration::from_secs(1);

/// Inputs from the router after a LinkUp started, all handled by [`after::AfterHandler`].
pub const AFTER_INPUTS: [&str; 4] = [
    "linkup.outcome_reported",
    "linkup.contact_choice_made",
    "linkup.cancel_requested",
    "linkup.drop_requested",
];

/// Facts that change who may take part (a deleted account takes part in nothing), handled by [`eligibility::EligibilityHandler`].
pub const ELIGIBILITY_INPUTS: [&str; 3] = [
    "billing.entitlement_changed",
    "safety.hold_changed",
    "identity.user_deleted",
];

/// What the matcher's use cases share.
#[derive(Debug)]
pub struct Context {
    /// Encrypts the texts the matcher sends.
    pub keyring: crypto::Keyring,
    /// Every time decision reads this clock.
    pub clock: SharedClock,
    /// The base of LinkUp page links in texts.
    pub public_base_url: String,
}

/// A consumer of `type_name` (e.g. `linkup.requested`), ordered per partition key.
///
/// # Panics
/// Never for the catalog names this crate uses (checked by tests).
pub fn consumer(type_name: &str) -> ConsumerSpec {
    let payload = proto::catalog::by_type_name(type_name)
        .unwrap_or_else(|| unreachable!("{type_name} is in the payload catalog"));
    ConsumerSpec::ordered(SERVICE, payload)
}

/// A built, not yet running, linkup-matcher.
#[derive(Debug)]
pub struct Service {
    host: ServiceHost,
    ctx: Arc<Context>,
    replicas: usize,
    grpc: tokio::net::TcpListener,
}

impl Service {
    /// Binds the HTTP and gRPC listeners and creates the connections. Postgres and NATS may
    /// still be down: `/readyz` reports them until they are reachable.
    ///
    /// # Errors
    /// [`HostError`] when a listener cannot bind.
    pub async fn build(config: Config) -> Result<Self, HostError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Like [`Service::build`], reading `clock` (tests and the demo move time).
    ///
    /// # Errors
    /// [`HostError`] when a listener cannot bind.
    pub async fn build_with_clock(config: Config, clock: SharedClock) -> Result<Self, HostError> {
        let host = ServiceHost::start(SERVICE, &config.common).await?;
        let grpc = tokio::net::TcpListener::bind(config.grpc_addr)
            .await
            .map_err(|source| HostError::Bind {
                addr: config.grpc_addr,
                source,
            })?;
        let replicas = config.common.nats_stream_replicas;
        let ctx = Arc::new(Context {
            keyring: config.keyring,
            clock,
            public_base_url: config.public_base_url,
        });
        Ok(Self {
            host,
            ctx,
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

    /// Serves HTTP and the admin gRPC API, consumes LinkUp requests and invite replies, runs the
    /// timer worker and relays this service's outbox until `shutdown` fires, then drains
    /// in-flight work.
    ///
    /// # Errors
    /// [`HostError`] when the server fails.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), HostError> {
        let ctx = self.ctx.clone();
        let pool = self.host.pool().clone();
        let admin_api = admin::MatcherAdminApi::new(pool.clone(), ctx.clone());
        let incoming = tonic::transport::server::TcpIncoming::from(self.grpc);
        let dlq_pool = pool.clone();
        let start = move |bus: &bus::ServiceBus, shutdown: &CancellationToken| {
            let create = create::CreateHandler::new(ctx.clone());
            let reply = replies::ReplyHandler::new(ctx.clone());
            let after = after::AfterHandler::new(ctx.clone());
            let eligibility = eligibility::EligibilityHandler::new(ctx.clone());
            let mut tasks = vec![
                tokio::spawn(serve_admin(
                    admin_api,
                    dlq_admin::DeadLettersApi::new(
                        dlq_pool.clone(),
                        bus.jetstream().clone(),
                        SERVICE,
                    ),
                    incoming,
                    shutdown.clone(),
                )),
                tokio::spawn(bus.consume(consumer("linkup.requested"), create, shutdown.clone())),
                tokio::spawn(bus.consume(
                    consumer("linkup.invite_replied"),
                    reply,
                    shutdown.clone(),
                )),
            ];
            for input in AFTER_INPUTS {
                let consume = bus.consume(consumer(input), after.clone(), shutdown.clone());
                tasks.push(tokio::spawn(consume));
            }
            for input in ELIGIBILITY_INPUTS {
                let consume = bus.consume(consumer(input), eligibility.clone(), shutdown.clone());
                tasks.push(tokio::spawn(consume));
            }
            tasks.push(tokio::spawn(scheduler::run(
                pool,
                ctx,
                TIMER_POLL,
                shutdown.clone(),
            )));
            tasks
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

/// Serves the admin gRPC APIs (MatcherAdmin, DeadLetters) on `incoming` until `shutdown` fires.
async fn serve_admin(
    api: admin::MatcherAdminApi,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consumed_event_is_in_the_catalog() {
        let inputs = [
            "linkup.requested",
            "linkup.invite_replied",
            "billing.entitlement_changed",
            "safety.hold_changed",
        ];
        for name in inputs.iter().chain(AFTER_INPUTS.iter()) {
            assert!(proto::catalog::by_type_name(name).is_some(), "{name}");
            let _ = consumer(name);
        }
    }
}
