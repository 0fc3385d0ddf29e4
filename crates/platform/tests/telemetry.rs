//! Telemetry start-up and W3C trace-context propagation.
//!
//! Propagation tests use a scoped subscriber (an OpenTelemetry layer over an SDK tracer provider
//! with no exporter, so no network) rather than the process-global one, so they do not depend on
//! which test installs the global subscriber first. The global propagator they rely on is the
//! same W3C one whichever test installs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::{BTreeMap, HashMap};

use async_nats::HeaderMap;
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use platform::config::Env;
use platform::telemetry::{self, TelemetryError};
use platform::trace_context::{self, TRACEPARENT, is_valid_traceparent};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// A subscriber whose spans get real OpenTelemetry ids, and the provider behind it.
fn traced() -> (impl Subscriber + Send + Sync, SdkTracerProvider) {
    trace_context::install_propagator();
    let provider = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)))
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("telemetry-test")));
    (subscriber, provider)
}

fn span_context(span: &tracing::Span) -> SpanContext {
    span.context().span().span_context().clone()
}

#[test]
fn a_span_injected_into_nats_headers_yields_a_valid_traceparent() {
    let (subscriber, _provider) = traced();
    tracing::subscriber::with_default(subscriber, || {
        let producer = tracing::info_span!("publish");
        let _entered = producer.enter();
        let mut headers = HeaderMap::new();
        trace_context::inject_nats(&mut headers);

        let traceparent = headers.get(TRACEPARENT).unwrap().as_str().to_owned();
        assert!(is_valid_traceparent(&traceparent), "{traceparent}");
        let expected = span_context(&producer);
        assert_eq!(
            traceparent,
            format!("00-{}-{}-01", expected.trace_id(), expected.span_id())
        );
        assert_eq!(trace_context::current_traceparent(), Some(traceparent));
    });
}

#[test]
fn a_consumer_span_joins_the_producer_trace() {
    let (subscriber, _provider) = traced();
    tracing::subscriber::with_default(subscriber, || {
        let mut headers = HeaderMap::new();
        let producer = tracing::info_span!("publish");
        producer.in_scope(|| trace_context::inject_nats(&mut headers));
        let producer = span_context(&producer);

        // The consumer's handler span is created inside an unrelated span (its poll loop): the
        // remote parent from the headers must win.
        let poll = tracing::info_span!("poll");
        let _poll = poll.enter();
        let handler = tracing::info_span!("handle");
        assert!(trace_context::set_parent_from_nats(&handler, &headers));

        let child = span_context(&handler);
        assert!(child.is_valid());
        assert_eq!(child.trace_id(), producer.trace_id());
        assert_ne!(child.span_id(), producer.span_id());
        assert_ne!(child.trace_id(), span_context(&poll).trace_id());
        assert_eq!(
            trace_context::extract_nats(&headers)
                .span()
                .span_context()
                .span_id(),
            producer.span_id()
        );
    });
}

#[test]
fn any_string_map_carries_the_context() {
    let (subscriber, _provider) = traced();
    tracing::subscriber::with_default(subscriber, || {
        let producer = tracing::info_span!("outbox_relay");
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        producer.in_scope(|| trace_context::inject_current(&mut map));
        assert!(is_valid_traceparent(&map[TRACEPARENT]));

        let handler = tracing::info_span!("handle");
        assert!(trace_context::extract_into_span(&handler, |k| map
            .get(k)
            .cloned()));
        assert_eq!(
            span_context(&handler).trace_id(),
            span_context(&producer).trace_id()
        );
    });
}

#[test]
fn without_an_active_span_nothing_is_injected() {
    let (subscriber, _provider) = traced();
    tracing::subscriber::with_default(subscriber, || {
        let mut headers = HeaderMap::new();
        trace_context::inject_nats(&mut headers);
        assert!(headers.is_empty());
        let mut map: HashMap<String, String> = HashMap::new();
        trace_context::inject_current(&mut map);
        assert!(map.is_empty());
        assert_eq!(trace_context::current_traceparent(), None);
    });
    // Nor without any OpenTelemetry layer at all.
    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        let _entered = tracing::info_span!("untraced").entered();
        assert_eq!(trace_context::current_traceparent(), None);
    });
}

#[test]
fn a_malformed_traceparent_starts_a_new_root_trace() {
    let (subscriber, _provider) = traced();
    tracing::subscriber::with_default(subscriber, || {
        for bad in [
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(TRACEPARENT, bad);
            let handler = tracing::info_span!("handle");
            assert!(!trace_context::set_parent_from_nats(&handler, &headers));
            let root = span_context(&handler);
            assert!(root.is_valid(), "{bad}");
            assert!(!root.is_remote());
            assert_ne!(
                root.trace_id().to_string(),
                "4bf92f3577b34da6a3ce929d0e0e4736"
            );
        }
    });
}

#[test]
fn init_without_an_exporter_works_twice() {
    let env = Env::from_pairs([("RUST_LOG", "info,platform=debug")]);
    let first = telemetry::init("telemetry-test", &env).unwrap();
    let second = telemetry::init("telemetry-test", &env).unwrap();
    assert!(!first.exports_traces());
    assert!(!second.exports_traces());
    drop(second);
    drop(first);
    let third = telemetry::init("telemetry-test", &Env::from_pairs::<&str, &str>([]));
    assert!(third.is_ok());
}

#[test]
fn a_malformed_rust_log_is_rejected_by_name() {
    for bad in ["platform=notalevel", "info,[{"] {
        let env = Env::from_pairs([("RUST_LOG", bad)]);
        let error = telemetry::init("telemetry-test", &env).unwrap_err();
        assert!(matches!(error, TelemetryError::Config(_)), "{error:?}");
        assert!(error.to_string().contains("RUST_LOG"), "{error}");
    }
}

#[test]
fn a_malformed_otlp_endpoint_is_rejected_by_name() {
    let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
    let error = telemetry::init("telemetry-test", &env).unwrap_err();
    assert!(
        error.to_string().contains("OTEL_EXPORTER_OTLP_ENDPOINT"),
        "{error}"
    );
}

#[test]
fn trace_export_outside_a_runtime_is_an_error_not_a_panic() {
    let env = Env::from_pairs([("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")]);
    let error = telemetry::init("telemetry-test", &env).unwrap_err();
    assert!(matches!(error, TelemetryError::NoRuntime), "{error:?}");
}
