//! One trace across the bus: the span that enqueued an event is the parent of the consumer's
//! handler span, through the outbox row and the NATS `traceparent` header.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use bus::{ConsumerRunner, Handler, HandlerError};
use common::{DEADLINE, Harness, event};
use opentelemetry::trace::{TraceContextExt as _, TraceId, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use proto::Envelope;
use sqlx::PgConnection;
use testkit::wait_until;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

#[derive(Clone, Default)]
struct TraceRecorder(Arc<Mutex<Vec<TraceId>>>);

impl Handler for TraceRecorder {
    async fn handle(
        &self,
        _tx: &mut PgConnection,
        _envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let span = tracing::Span::current();
        let trace_id = span.context().span().span_context().trace_id();
        self.0.lock().unwrap().push(trace_id);
        Ok(())
    }
}

// A current-thread runtime, so the thread-local subscriber below sees every task.
#[tokio::test(flavor = "current_thread")]
async fn the_consumer_span_continues_the_producer_trace() {
    platform::trace_context::install_propagator();
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bus-test")));
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = Harness::new().await;
    let use_case = tracing::info_span!("use_case");
    let expected = use_case.context().span().span_context().trace_id();
    assert_ne!(expected, TraceId::INVALID);
    h.enqueue(&event("user-a", 1)).instrument(use_case).await;
    // Published outside the producer's span, as the relay does.
    h.relay().publish_batch().await.unwrap();

    let recorder = TraceRecorder::default();
    let runner = ConsumerRunner::new(
        h.js.clone(),
        h.consumer_pool.clone(),
        h.spec(),
        recorder.clone(),
    );
    let task = tokio::spawn(runner.run(h.shutdown.clone()));
    wait_until("the handler", DEADLINE, || async {
        !recorder.0.lock().unwrap().is_empty()
    })
    .await
    .unwrap();
    assert_eq!(
        recorder.0.lock().unwrap()[0],
        expected,
        "one trace from use case to handler"
    );
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}
