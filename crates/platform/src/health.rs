//! `/healthz` (the process is alive), `/readyz` (it can do its work: Postgres reachable with the
//! schema at the version this build needs, NATS connected, its start-up work such as creating
//! durable consumers finished) and `/metrics` (Prometheus).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::PgPool;

/// How long one readiness probe may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What `/readyz` checks.
#[derive(Debug, Clone)]
pub struct Readiness {
    /// The service's database pool.
    pub pool: PgPool,
    /// The service's NATS client.
    pub nats: async_nats::Client,
    /// The schema version this build needs (see [`schema::required_version`]).
    pub required_schema: i64,
    /// Start-up work still running (e.g. durable consumers not created yet).
    pub startup: StartupGate,
}

/// Start-up work a service must finish before it is ready: a worker takes a [`StartupHold`]
/// when it is spawned and drops it once it can do its job (a consumer once its durables exist,
/// so no message published after `/readyz` answers 200 waits on a consumer nobody created).
#[derive(Debug, Clone, Default)]
pub struct StartupGate {
    // What is still starting, by name, with how many holds each name has.
    holds: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl StartupGate {
    /// Holds readiness back until the returned hold is dropped.
    pub fn hold(&self, what: &str) -> StartupHold {
        *self.lock().entry(what.to_owned()).or_default() += 1;
        StartupHold {
            gate: self.clone(),
            what: what.to_owned(),
        }
    }

    /// What is still starting, sorted; empty once everything started.
    pub fn waiting_on(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        // The map stays consistent whatever panicked while holding it.
        self.holds.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One piece of start-up work in progress; dropping it marks that work done.
#[derive(Debug)]
pub struct StartupHold {
    gate: StartupGate,
    what: String,
}

impl Drop for StartupHold {
    fn drop(&mut self) {
        let mut holds = self.gate.lock();
        if let Some(count) = holds.get_mut(&self.what) {
            *count -= 1;
            if *count == 0 {
                holds.remove(&self.what);
            }
        }
    }
}

/// The `/readyz` answer: one entry per dependency, `"ok"` or what is wrong.
#[derive(Debug, Serialize)]
pub struct ReadyReport {
    /// `"ready"` or `"not ready"`.
    pub status: &'static str,
    /// Postgres and schema version.
    pub database: String,
    /// NATS connection.
    pub nats: String,
    /// Start-up work: `"ok"` or what is still starting.
    pub startup: String,
}

impl Readiness {
    /// Probes every dependency concurrently, each bounded by a short timeout.
    pub async fn check(&self) -> ReadyReport {
        let (database, nats) = tokio::join!(self.check_database(), self.check_nats());
        let starting = self.startup.waiting_on();
        let ready = database.is_ok() && nats.is_ok() && starting.is_empty();
        ReadyReport {
            status: if ready { "ready" } else { "not ready" },
            database: database.err().unwrap_or_else(|| "ok".to_owned()),
            nats: nats.err().unwrap_or_else(|| "ok".to_owned()),
            startup: if starting.is_empty() {
                "ok".to_owned()
            } else {
                format!("starting {}", starting.join(", "))
            },
        }
    }

    async fn check_database(&self) -> Result<(), String> {
        let probe = tokio::time::timeout(PROBE_TIMEOUT, schema::live_version(&self.pool)).await;
        match probe {
            Err(_) => Err("unreachable (timed out)".to_owned()),
            Ok(Err(_)) => Err("unreachable".to_owned()),
            Ok(Ok(None)) => Err("schema not migrated".to_owned()),
            Ok(Ok(Some(v))) if v < self.required_schema => Err(format!(
                "schema version {v} is older than required {}",
                self.required_schema
            )),
            Ok(Ok(Some(_))) => Ok(()),
        }
    }

    async fn check_nats(&self) -> Result<(), String> {
        if self.nats.connection_state() != async_nats::connection::State::Connected {
            return Err("not connected".to_owned());
        }
        match tokio::time::timeout(PROBE_TIMEOUT, self.nats.flush()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err("flush failed".to_owned()),
            Err(_) => Err("flush timed out".to_owned()),
        }
    }
}

/// The health, readiness and metrics routes.
pub fn routes(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(readiness)
}

async fn healthz() -> &'static str {
    "ok"
}

#[tracing::instrument(skip_all)]
async fn readyz(State(readiness): State<Readiness>) -> Response {
    let report = readiness.check().await;
    let status = if report.status == "ready" {
        StatusCode::OK
    } else {
        tracing::warn!(database = %report.database, nats = %report.nats, startup = %report.startup, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

async fn metrics() -> Response {
    let body = crate::metrics::prometheus().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
