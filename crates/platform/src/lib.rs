//! What every JOSH service runs on.
//!
//! A service is a library that builds a [`ServiceHost`] from its typed config, adds its own
//! routes and workers, and runs until a [`CancellationToken`](tokio_util::sync::CancellationToken)
//! fires; its `main.rs` is one call to [`run_main`].
//!
//! - [`config`]: typed configuration from environment variables, validated at start.
//! - [`telemetry`]: structured JSON logs and OTLP trace export.
//! - [`db`]: which Postgres failures are worth another try.
//! - [`trace_context`]: W3C trace context through NATS headers and other string maps.
//! - [`host`]: the HTTP listener with `/healthz`, `/readyz` and `/metrics`, Postgres and NATS
//!   connections, graceful shutdown.

pub mod clock;
pub mod config;
pub mod db;
mod entry;
pub mod errors;
pub mod health;
pub mod host;
pub mod metrics;
pub mod telemetry;
pub mod trace_context;

pub use entry::{run_main, shutdown_on_signal};
pub use host::{HostError, ServiceHost};
