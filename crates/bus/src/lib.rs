//! JOSH's event bus on NATS JetStream.
//!
//! - [`subjects`]: every subject and stream name, and per-user partitioning.
//! - [`topology`]: streams and durable consumers declared in code, ensured at start.
//! - [`outbox::enqueue`] in the use case's transaction, published by a [`Relay`], woken by
//!   NOTIFY or, on hot paths, by a [`RelayWaker`] after commit ([`wake`]).
//! - [`ConsumerRunner`] runs a [`Handler`] with the transactional [`inbox`], retries with
//!   backoff and dead-letters what cannot succeed; [`dlq`] lists and replays dead letters.

pub mod consumer;
pub mod dlq;
mod error;
pub mod inbox;
pub mod outbox;
pub mod relay;
mod service;
pub mod subjects;
pub mod topology;
pub mod wake;

pub use consumer::{ConsumerRunner, Outcome, deliver};
pub use error::BusError;
pub use inbox::{Handler, HandlerError};
pub use relay::{BatchReport, Relay};
pub use service::{ServiceBus, run_service};
pub use topology::{ConsumerSpec, Ordering, ensure_consumers, ensure_streams};
pub use wake::{Notify, RelayWaker};
