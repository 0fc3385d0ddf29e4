//! Structured logging: JSON lines on stdout, filtered by `RUST_LOG` (default `info`).
//!
//! Log fields, never interpolated values; never message bodies or full phone numbers.

use tracing_subscriber::EnvFilter;

use crate::config::Env;

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
pub fn init(env: &Env) {
    let filter = env
        .optional("RUST_LOG")
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .try_init();
}
