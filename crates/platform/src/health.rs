//! `/healthz` (the process is alive), `/readyz` (it can do its work: Postgres reachable with the
//! schema at the version this build needs, NATS connected) and `/metrics` (Prometheus).

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
}

impl Readiness {
    /// Probes every dependency concurrently, each bounded by a short timeout.
    pub async fn check(&self) -> ReadyReport {
        let (database, nats) = tokio::join!(self.check_database(), self.check_nats());
        let ready = database.is_ok() && nats.is_ok();
        ReadyReport {
            status: if ready { "ready" } else { "not ready" },
            database: database.err().unwrap_or_else(|| "ok".to_owned()),
            nats: nats.err().unwrap_or_else(|| "ok".to_owned()),
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
        tracing::warn!(database = %report.database, nats = %report.nats, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

async fn metrics() -> Response {
    let body = crate::metrics::prometheus().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
