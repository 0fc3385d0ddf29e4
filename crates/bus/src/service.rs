//! What every service runs on the bus: the topology ensured at start and its outbox relay.

use std::time::Duration;

use async_nats::jetstream;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::relay::ErrorChain;
use crate::{Relay, ensure_streams};

/// A service's part of the bus: ensures the streams (retrying while NATS is unreachable), then
/// publishes the service's outbox until shutdown. Consumers are added with
/// [`ConsumerRunner`](crate::ConsumerRunner) by the services that consume.
#[derive(Debug, Clone)]
pub struct ServiceBus {
    js: jetstream::Context,
    pool: PgPool,
    producer: &'static str,
    replicas: usize,
}

impl ServiceBus {
    /// The bus of service `producer` over `nats`, storing its outbox in `pool`.
    pub fn new(
        nats: async_nats::Client,
        pool: PgPool,
        producer: &'static str,
        replicas: usize,
    ) -> Self {
        Self {
            js: jetstream::new(nats),
            pool,
            producer,
            replicas: replicas.max(1),
        }
    }

    /// The JetStream context, for consumers.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Ensures the topology, then relays the outbox until `shutdown` fires.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut pause = Duration::from_millis(200);
        loop {
            match ensure_streams(&self.js, self.replicas).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(producer = self.producer, error = %ErrorChain(&error), "cannot ensure streams yet; retrying");
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(10));
        }
        Relay::new(self.pool, self.js, self.producer)
            .run(shutdown)
            .await;
    }
}
