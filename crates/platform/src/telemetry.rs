//! Structured logging and distributed tracing.
//!
//! - Logs: JSON lines on stdout, filtered by `RUST_LOG` (default `info`; a malformed value stops
//!   the service at start).
//! - Traces: when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (e.g. `http://otel-collector:4317`),
//!   `tracing` spans that pass the `RUST_LOG` filter are exported over OTLP/gRPC with a batch
//!   processor, `service.name` = the service, parent-based always-on sampling. The standard
//!   `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression) are honoured by the
//!   exporter; header values (they may hold credentials) are never logged.
//! - Propagation: the global propagator is W3C TraceContext, with or without an exporter; see
//!   [`trace_context`](crate::trace_context).
//!
//! Log fields, never interpolated values; never message bodies or full phone numbers.

use std::fmt;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{ExporterBuildError, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{ConfigError, Env};

/// The variable that switches trace export on and names the collector.
pub const OTLP_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// How long dropping a [`TelemetryGuard`] may wait for the last spans to be exported.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Crates whose spans describe the exporter itself; tracing them would feed back into export.
const EXPORT_MACHINERY: [&str; 8] = [
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "tonic",
    "h2",
    "hyper",
    "hyper_util",
    "tower",
];

/// Telemetry could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A telemetry setting (`RUST_LOG`, `OTEL_EXPORTER_OTLP_ENDPOINT`) is malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Trace export was requested outside a Tokio runtime (the gRPC client needs one).
    #[error("{OTLP_ENDPOINT_VAR} is set but telemetry was started outside a Tokio runtime")]
    NoRuntime,
    /// The OTLP span exporter rejected its configuration.
    #[error("cannot start the OTLP span exporter: {0}")]
    Exporter(#[from] ExporterBuildError),
}

/// Keeps trace export alive; dropping it flushes pending spans and shuts the exporter down.
///
/// Hold it until the service has stopped, and drop it while the Tokio runtime that was current
/// at [`init`] still runs (the gRPC channel lives on it). Dropping it inside a current-thread
/// runtime's task blocks that runtime for up to five seconds.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// A guard that owns nothing (telemetry was already installed, or export is off).
    fn inert() -> Self {
        Self { provider: None }
    }

    /// Whether this guard owns a trace exporter (i.e. spans from this process are exported).
    pub fn exports_traces(&self) -> bool {
        self.provider.is_some()
    }
}

impl fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("exports_traces", &self.exports_traces())
            .finish()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
        {
            tracing::warn!(error = %error, "trace exporter did not shut down cleanly");
        }
    }
}

/// Installs the global subscriber (JSON logs, plus OTLP trace export when
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is set) and the W3C TraceContext propagator.
///
/// With an endpoint it must run inside a Tokio runtime (e.g. after `Runtime::enter`). Safe to
/// call more than once: later calls keep the first subscriber and return an inert guard, but
/// still validate their settings.
///
/// # Errors
/// [`TelemetryError::Config`] naming `RUST_LOG` or `OTEL_EXPORTER_OTLP_ENDPOINT` when malformed;
/// [`TelemetryError::NoRuntime`] or [`TelemetryError::Exporter`] when export cannot start.
pub fn init(service: &'static str, env: &Env) -> Result<TelemetryGuard, TelemetryError> {
    let filter = log_filter(env)?;
    let endpoint = otlp_endpoint(env)?;
    if endpoint.is_some() && tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::NoRuntime);
    }
    crate::trace_context::install_propagator();
    if tracing::dispatcher::has_been_set() {
        return Ok(TelemetryGuard::inert());
    }
    let provider = endpoint
        .map(|endpoint| tracer_provider(service, &endpoint))
        .transpose()?;
    let otel_layer = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer(service))
            .with_filter(filter_fn(|metadata| {
                !is_export_machinery(metadata.target())
            }))
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false),
        )
        .with(otel_layer)
        .try_init();
    match installed {
        Ok(()) => Ok(TelemetryGuard { provider }),
        // Lost a race with another initialiser: keep theirs, shut our unused exporter down.
        Err(_) => {
            drop(TelemetryGuard { provider });
            Ok(TelemetryGuard::inert())
        }
    }
}

/// The `RUST_LOG` filter, `info` when unset.
fn log_filter(env: &Env) -> Result<EnvFilter, ConfigError> {
    match env.optional("RUST_LOG") {
        None => Ok(EnvFilter::new("info")),
        Some(directives) => EnvFilter::builder()
            .parse(directives)
            .map_err(|error| ConfigError::malformed("RUST_LOG", error)),
    }
}

/// The collector address (`http(s)://host:port`), if trace export is on.
fn otlp_endpoint(env: &Env) -> Result<Option<String>, ConfigError> {
    match env.optional(OTLP_ENDPOINT_VAR) {
        None => Ok(None),
        Some(_) => env.base_url(OTLP_ENDPOINT_VAR).map(Some),
    }
}

/// A tracer provider exporting to `endpoint` in batches, as `service`.
fn tracer_provider(
    service: &'static str,
    endpoint: &str,
) -> Result<SdkTracerProvider, ExporterBuildError> {
    let exporter = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .with_resource(Resource::builder().with_service_name(service).build())
        .build())
}

/// Whether `target` belongs to the exporter's own stack (see [`EXPORT_MACHINERY`]).
fn is_export_machinery(target: &str) -> bool {
    EXPORT_MACHINERY.iter().any(|prefix| {
        target
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_machinery_is_matched_by_crate_not_by_prefix() {
        assert!(is_export_machinery("tonic::transport"));
        assert!(is_export_machinery("h2"));
        assert!(is_export_machinery("opentelemetry_sdk::trace"));
        assert!(!is_export_machinery("tower_http::trace::make_span"));
        assert!(!is_export_machinery("platform::host"));
        assert!(!is_export_machinery("hyperloop"));
    }

    /// The only test in this binary that installs the global subscriber.
    #[test]
    fn export_starts_in_a_runtime_and_shutdown_is_bounded_when_the_collector_is_down() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let env = Env::from_pairs([(OTLP_ENDPOINT_VAR, "http://127.0.0.1:9")]);
        let guard = {
            let _runtime = runtime.enter();
            init("telemetry-unit-test", &env).unwrap()
        };
        assert!(guard.exports_traces());
        tracing::info_span!("exported").in_scope(|| tracing::info!("inside"));
        let started = std::time::Instant::now();
        drop(guard);
        assert!(started.elapsed() < SHUTDOWN_TIMEOUT + Duration::from_secs(2));
    }

    #[test]
    fn endpoint_needs_an_http_scheme_and_a_host() {
        let env = |v: &str| Env::from_pairs([(OTLP_ENDPOINT_VAR, v)]);
        assert_eq!(otlp_endpoint(&Env::from_pairs::<&str, &str>([])), Ok(None));
        assert!(otlp_endpoint(&env("http://collector:4317")).is_ok());
        for bad in ["collector:4317", "http://", "grpc://collector:4317"] {
            let error = otlp_endpoint(&env(bad)).err();
            assert_eq!(error.map(|e| e.var), Some(OTLP_ENDPOINT_VAR.to_owned()));
        }
    }
}
