//! The `linkup-matcher` binary keeps the service contract: config errors name the variable,
//! `/readyz` follows Postgres and NATS, SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use testkit::service::{check_lifecycle, check_malformed, check_missing, service_env};

const BIN: &str = env!("CARGO_BIN_EXE_linkup-matcher");

#[tokio::test]
async fn each_missing_setting_stops_it_with_one_line_naming_it() {
    let base = service_env(
        "postgres://postgres@127.0.0.1:5432/postgres",
        "nats://127.0.0.1:4222",
    );
    for var in ["DATABASE_URL", "NATS_URL", "PUBLIC_BASE_URL"] {
        check_missing(BIN, &base, var).await.unwrap();
    }
}

#[tokio::test]
async fn each_malformed_setting_stops_it_with_one_line_naming_it() {
    let base = service_env(
        "postgres://postgres@127.0.0.1:5432/postgres",
        "nats://127.0.0.1:4222",
    );
    for (var, value) in [
        ("DATABASE_URL", "mysql://root:hunter2@db/josh"),
        ("NATS_URL", "http://not nats"),
        ("HTTP_ADDR", "localhost"),
        ("GRPC_ADDR", "x:y"),
        ("PUBLIC_BASE_URL", "/relative"),
    ] {
        check_malformed(BIN, &base, var, value).await.unwrap();
    }
}

#[tokio::test]
async fn readiness_follows_postgres_and_nats_and_sigterm_stops_it() {
    check_lifecycle(BIN, "josh_linkup_matcher").await.unwrap();
}
