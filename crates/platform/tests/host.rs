//! The service host against real Postgres and NATS: readiness reflects the schema version,
//! metrics count requests, and shutdown drains.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration;

use platform::ServiceHost;
use platform::config::{CommonConfig, Env};
use testkit::{TestDb, nats_url, wait_until};
use tokio_util::sync::CancellationToken;

fn config(db: &TestDb) -> CommonConfig {
    let env = Env::from_pairs([
        ("DATABASE_URL", db.url()),
        ("NATS_URL", nats_url()),
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
    ]);
    CommonConfig::from_env(&env, 0).unwrap()
}

async fn serve(db: &TestDb) -> (String, CancellationToken, tokio::task::JoinHandle<()>) {
    let host = ServiceHost::start("platform-test", &config(db))
        .await
        .unwrap();
    serve_host(host)
}

fn serve_host(host: ServiceHost) -> (String, CancellationToken, tokio::task::JoinHandle<()>) {
    let base = format!("http://{}", host.local_addr());
    let token = CancellationToken::new();
    let stop = token.clone();
    let task = tokio::spawn(async move { host.serve(axum::Router::new(), stop).await.unwrap() });
    (base, token, task)
}

async fn readyz(base: &str) -> (u16, serde_json::Value) {
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn an_unmigrated_database_is_not_ready() {
    let db = TestDb::empty().await.unwrap();
    let (base, token, task) = serve(&db).await;
    wait_until("NATS connected", Duration::from_secs(10), || async {
        readyz(&base).await.1["nats"] == "ok"
    })
    .await
    .unwrap();
    let (status, body) = readyz(&base).await;
    assert_eq!(status, 503);
    assert_eq!(body["database"], "schema not migrated");
    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn an_older_schema_is_not_ready_and_the_current_one_is() {
    let db = TestDb::migrated().await.unwrap();
    let (base, token, task) = serve(&db).await;
    wait_until("ready", Duration::from_secs(10), || async {
        readyz(&base).await.0 == 200
    })
    .await
    .unwrap();

    sqlx::query("create or replace function public.josh_schema_version() returns bigint language sql as 'select 1::bigint'")
        .execute(&db.pool)
        .await
        .unwrap();
    let (status, body) = readyz(&base).await;
    assert_eq!(status, 503);
    assert!(
        body["database"]
            .as_str()
            .unwrap()
            .contains("older than required"),
        "{body}"
    );
    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn start_up_work_holds_readiness_until_every_hold_is_dropped() {
    let db = TestDb::migrated().await.unwrap();
    let host = ServiceHost::start("platform-test", &config(&db))
        .await
        .unwrap();
    let gate = host.startup().clone();
    let first = gate.hold("consumer a");
    let second = gate.hold("consumer a");
    let other = gate.hold("consumer b");
    let (base, token, task) = serve_host(host);
    wait_until("NATS connected", Duration::from_secs(10), || async {
        readyz(&base).await.1["nats"] == "ok"
    })
    .await
    .unwrap();

    let (status, body) = readyz(&base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["startup"], "starting consumer a, consumer b");
    drop((first, other));
    let (status, body) = readyz(&base).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["startup"], "starting consumer a");
    drop(second);
    let (status, body) = readyz(&base).await;
    assert_eq!(
        (status, body["startup"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let db = TestDb::migrated().await.unwrap();
    let (base, token, task) = serve(&db).await;
    for _ in 0..3 {
        assert_eq!(
            reqwest::get(format!("{base}/healthz"))
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(
        reqwest::get(format!("{base}/nope")).await.unwrap().status(),
        404
    );
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let healthz = text
        .lines()
        .find(|l| l.starts_with("http_requests_total") && l.contains("route=\"/healthz\""))
        .unwrap_or_else(|| panic!("no healthz counter in {text}"));
    let count: f64 = healthz.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{healthz}");
    assert!(
        text.contains("route=\"unmatched\""),
        "404s are counted without their raw path"
    );
    token.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn cancelling_the_token_stops_the_server() {
    let db = TestDb::migrated().await.unwrap();
    let (base, token, task) = serve(&db).await;
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    token.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "still serving after shutdown"
    );
}
