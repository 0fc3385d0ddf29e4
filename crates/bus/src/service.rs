//! What every service runs on the bus: the topology ensured at start and its outbox relay.

use std::future::Future;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use platform::health::StartupGate;
use platform::{HostError, ServiceHost};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{ConsumerRunner, ConsumerSpec, Handler, Relay, RelayWaker, ensure_streams};
use platform::errors::ErrorChain;

/// A service's part of the bus: ensures the streams (retrying while NATS is unreachable), then
/// publishes the service's outbox until shutdown, and runs the service's consumers (see
/// [`ServiceBus::consume`]), holding the service's readiness until their durables exist.
#[derive(Debug, Clone)]
pub struct ServiceBus {
    js: jetstream::Context,
    pool: PgPool,
    producer: &'static str,
    replicas: usize,
    startup: StartupGate,
}

impl ServiceBus {
    /// The bus of service `producer` over `nats`, storing its outbox in `pool`; consumers hold
    /// `startup` (the service's readiness) until they are created.
    pub fn new(
        nats: async_nats::Client,
        pool: PgPool,
        producer: &'static str,
        replicas: usize,
        startup: StartupGate,
    ) -> Self {
        Self {
            js: jetstream::new(nats),
            pool,
            producer,
            replicas: replicas.max(1),
            startup,
        }
    }

    /// The JetStream context, for consumers.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Wakes this service's relay: for code that stores outbox rows with
    /// [`crate::Notify::ByCaller`] (the consumers run by [`ServiceBus::consume`] do).
    pub fn waker(&self) -> RelayWaker {
        RelayWaker::new(self.js.client(), self.producer)
    }

    /// Ensures the topology, then relays the outbox until `shutdown` fires.
    pub async fn run(self, shutdown: CancellationToken) {
        if !self.await_streams(&shutdown).await {
            return;
        }
        Relay::new(self.pool, self.js, self.producer)
            .run(shutdown)
            .await;
    }

    /// Runs `handler` over `spec` until `shutdown` fires, first waiting (with backoff) until the
    /// streams and durable consumers can be created, so a service may start while NATS is down.
    /// The service is not ready from this call until the durables exist: a message published
    /// before then would wait in the stream with no consumer to count it as pending.
    pub fn consume<H: Handler>(
        &self,
        spec: ConsumerSpec,
        handler: H,
        shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        let hold = self.startup.hold(spec.consumer);
        let bus = self.clone();
        async move {
            let runner =
                ConsumerRunner::new(bus.js.clone(), bus.pool.clone(), spec.clone(), handler)
                    .with_waker(bus.waker());
            let Some(consumers) = bus.create_consumers(&runner, &spec, &shutdown).await else {
                return;
            };
            drop(hold);
            runner.consume(consumers, shutdown).await;
        }
    }

    /// Creates `runner`'s durables, retrying with backoff; `None` if `shutdown` fired first.
    async fn create_consumers<H: Handler>(
        &self,
        runner: &ConsumerRunner<H>,
        spec: &ConsumerSpec,
        shutdown: &CancellationToken,
    ) -> Option<Vec<jetstream::consumer::PullConsumer>> {
        let mut pause = Duration::from_millis(200);
        while self.await_streams(shutdown).await {
            let created = tokio::select! {
                () = shutdown.cancelled() => return None,
                created = runner.create() => created,
            };
            match created {
                Ok(consumers) => return Some(consumers),
                Err(error) => {
                    tracing::warn!(consumer = spec.consumer, type_name = spec.type_name(), error = %ErrorChain(&error), "cannot create consumer yet; retrying");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return None,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(10));
        }
        None
    }

    /// Ensures the streams, retrying until they exist; false if `shutdown` fired first.
    async fn await_streams(&self, shutdown: &CancellationToken) -> bool {
        let mut pause = Duration::from_millis(200);
        loop {
            // A request to a server that is down waits out its timeout: shutdown does not.
            let ensured = tokio::select! {
                () = shutdown.cancelled() => return false,
                ensured = ensure_streams(&self.js, self.replicas) => ensured,
            };
            match ensured {
                Ok(()) => return true,
                Err(error) => {
                    tracing::warn!(producer = self.producer, error = %ErrorChain(&error), "cannot ensure streams yet; retrying");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return false,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    }
}

/// Runs a whole service until `shutdown`: `routes` (plus health, readiness and metrics) on its
/// host, its outbox relay, and the background workers `start` spawns (consumers, schedulers),
/// given the service's bus. Waits for every task after the token fires, so no transaction is cut
/// off mid-commit.
///
/// # Errors
/// [`HostError`] when the HTTP server fails.
pub async fn run_service(
    host: ServiceHost,
    producer: &'static str,
    replicas: usize,
    routes: Router,
    start: impl FnOnce(&ServiceBus, &CancellationToken) -> Vec<JoinHandle<()>>,
    shutdown: CancellationToken,
) -> Result<(), HostError> {
    let bus = ServiceBus::new(
        host.nats().clone(),
        host.pool().clone(),
        producer,
        replicas,
        host.startup().clone(),
    );
    let mut tasks = start(&bus, &shutdown);
    tasks.push(tokio::spawn(bus.run(shutdown.clone())));
    let served = host.serve(routes, shutdown).await;
    for task in tasks {
        let _ = task.await;
    }
    served
}
