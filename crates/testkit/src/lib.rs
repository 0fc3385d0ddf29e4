//! Test harness for JOSH.
//!
//! - [`TestDb`]: a fresh Postgres database per test, cloned from a migrated template, so tests
//!   are isolated and fast. Point it elsewhere with `TEST_DATABASE_URL` (a superuser URL).
//! - [`ToggleProxy`]: a TCP proxy that can be switched off and on, to test outages of real
//!   Postgres or NATS servers without stopping them.
//! - [`NatsServer`]: a private JetStream server per test, which a test may restart.
//! - [`wait_until`]: await a condition with a deadline instead of sleeping.

mod db;
mod nats;
mod proxy;
pub mod service;
mod wait;

pub use db::{TestDb, admin_url};
pub use nats::NatsServer;
pub use proxy::ToggleProxy;
pub use wait::wait_until;

/// The NATS server tests use: `TEST_NATS_URL`, or the local default.
pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}
