//! W3C trace context across process boundaries: NATS headers, or any string map.
//!
//! A producer calls [`inject_nats`] (or [`inject_current`] for another carrier) inside the span
//! that publishes; it writes the `traceparent` (and `tracestate`, when there is one) of the
//! current [`tracing::Span`]. A consumer creates its handler span, calls [`set_parent_from_nats`]
//! (or [`extract_into_span`]) *before entering it*, and the handler span becomes a child of the
//! producer's span in the same trace.
//!
//! Encoding goes through the global OpenTelemetry text-map propagator, which
//! [`telemetry::init`](crate::telemetry::init) sets to W3C TraceContext; a process that does not
//! call `init` (a test, a tool) calls [`install_propagator`] instead, otherwise nothing is
//! injected or extracted.
//!
//! Missing or malformed incoming headers are never an error: the span keeps its natural parent
//! (or becomes a new root), so a bad header costs a broken trace, not a lost message.

use async_nats::HeaderMap;
use async_nats::header::{HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header that carries trace id, parent span id and flags.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C header that carries vendor-specific trace state.
pub const TRACESTATE: &str = "tracestate";

/// Makes W3C TraceContext the global text-map propagator. Idempotent; `telemetry::init` calls it.
pub fn install_propagator() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
}

/// The OpenTelemetry context of the current [`tracing::Span`], or the attached OpenTelemetry
/// context when there is no current span known to the OpenTelemetry layer.
pub fn current_context() -> Context {
    let cx = tracing::Span::current().context();
    if cx.has_active_span() {
        cx
    } else {
        Context::current()
    }
}

/// Writes the trace headers of `cx` into `carrier` (any map of `String` pairs: `HashMap`,
/// `BTreeMap`, `Vec`). Writes nothing when `cx` has no valid span.
pub fn inject_context(cx: &Context, carrier: &mut impl Extend<(String, String)>) {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut ExtendInjector(carrier));
    });
}

/// Writes the trace headers of the current span into `carrier`; nothing without an active span.
pub fn inject_current(carrier: &mut impl Extend<(String, String)>) {
    inject_context(&current_context(), carrier);
}

/// The `traceparent` of the current span, or `None` without an active (valid) span.
pub fn current_traceparent() -> Option<String> {
    let mut headers: Vec<(String, String)> = Vec::new();
    inject_current(&mut headers);
    headers
        .into_iter()
        .find(|(name, value)| name == TRACEPARENT && is_valid_traceparent(value))
        .map(|(_, value)| value)
}

/// Reads a remote parent context through `get` (header name → value).
///
/// Returns an empty context (no active span) when the headers are missing or malformed.
pub fn extract(get: impl Fn(&str) -> Option<String>) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        let fields: Vec<(String, String)> = propagator
            .fields()
            .filter_map(|field| get(field).map(|value| (field.to_owned(), value)))
            .collect();
        propagator.extract_with_context(&Context::new(), &PairsExtractor(&fields))
    })
}

/// Makes `cx` the parent of `span` when `cx` carries a valid remote span; otherwise leaves
/// `span` alone. Returns whether the parent was set.
///
/// Call it before the span is first entered: a started span cannot change its parent.
pub fn set_parent(span: &tracing::Span, cx: Context) -> bool {
    let remote = cx.span().span_context().clone();
    if !remote.is_valid() || !remote.is_remote() {
        return false;
    }
    match span.set_parent(cx) {
        Ok(()) => true,
        Err(error) => {
            tracing::debug!(error = %error, "cannot attach the incoming trace context");
            false
        }
    }
}

/// Sets `span`'s parent from headers read through `get`; see [`set_parent`].
pub fn extract_into_span(span: &tracing::Span, get: impl Fn(&str) -> Option<String>) -> bool {
    set_parent(span, extract(get))
}

/// Writes the current span's trace headers into NATS message headers (replacing old ones).
pub fn inject_nats(headers: &mut HeaderMap) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    inject_current(&mut pairs);
    for (name, value) in pairs {
        // The propagator only emits valid names and values; skip rather than panic otherwise.
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            value.parse::<HeaderValue>(),
        ) {
            headers.insert(name, value);
        }
    }
}

/// The remote parent context carried by NATS message headers (empty when absent or malformed).
pub fn extract_nats(headers: &HeaderMap) -> Context {
    extract(|field| {
        let name = HeaderName::try_from(field).ok()?;
        headers.get(name).map(|value| value.as_str().to_owned())
    })
}

/// Makes the producer's span (from NATS headers) the parent of `span`; see [`set_parent`].
pub fn set_parent_from_nats(span: &tracing::Span, headers: &HeaderMap) -> bool {
    set_parent(span, extract_nats(headers))
}

/// Links `span` to the producer's span carried by NATS headers (for a span that handles many
/// messages and so cannot have each producer as its parent). Returns whether a link was added;
/// call it before the span is first entered.
pub fn link_from_nats(span: &tracing::Span, headers: &HeaderMap) -> bool {
    let cx = extract_nats(headers);
    let remote = cx.span().span_context().clone();
    if !remote.is_valid() {
        return false;
    }
    span.add_link(remote);
    true
}

/// Whether `value` is a well-formed version-00 W3C `traceparent`:
/// `00-<32 lowercase hex, not all zero>-<16 lowercase hex, not all zero>-<2 lowercase hex>`.
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let [version, trace_id, span_id, flags] = parts.as_slice() else {
        return false;
    };
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    *version == "00"
        && hex(trace_id, 32)
        && nonzero(trace_id)
        && hex(span_id, 16)
        && nonzero(span_id)
        && hex(flags, 2)
}

/// Adapts any `Extend<(String, String)>` to the propagator's [`Injector`].
struct ExtendInjector<'a, E>(&'a mut E);

impl<E: Extend<(String, String)>> Injector for ExtendInjector<'_, E> {
    fn set(&mut self, key: &str, value: String) {
        self.0.extend(std::iter::once((key.to_owned(), value)));
    }
}

/// An [`Extractor`] over header pairs already read from a carrier.
struct PairsExtractor<'a>(&'a [(String, String)]);

impl Extractor for PairsExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::is_valid_traceparent;

    #[test]
    fn accepts_a_well_formed_traceparent() {
        assert!(is_valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(is_valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        ));
    }

    #[test]
    fn rejects_malformed_traceparents() {
        for bad in [
            "",
            "garbage",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
        ] {
            assert!(!is_valid_traceparent(bad), "accepted {bad:?}");
        }
    }
}
