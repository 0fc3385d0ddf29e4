//! The contract every service binary keeps, checked against the real binary: bad config exits
//! with one line naming the variable; `/readyz` follows Postgres and NATS; SIGTERM stops it
//! cleanly.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::{TestDb, ToggleProxy, nats_url, wait_until};

/// Test-only key material (never used outside tests).
const TEST_KEYS: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,\
                         1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// Variables whose values must never appear in output.
const SECRETS: &[&str] = &[
    "DATABASE_URL",
    "JOSH_ENCRYPTION_KEYS",
    "JOSH_PHONE_PEPPER",
    "TWILIO_AUTH_TOKEN",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
];

/// Valid settings for every service, pointing at the given Postgres and NATS.
pub fn service_env(database_url: &str, nats_url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url),
        ("NATS_URL", nats_url),
        ("HTTP_ADDR", "127.0.0.1:0"),
        ("GRPC_ADDR", "127.0.0.1:0"),
        ("JOSH_ENCRYPTION_KEYS", TEST_KEYS),
        ("JOSH_ACTIVE_KEY_VERSION", "2"),
        ("JOSH_PHONE_PEPPER", "test-pepper-not-a-secret"),
        ("PUBLIC_BASE_URL", "http://127.0.0.1:8081"),
        ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000"),
        ("TWILIO_AUTH_TOKEN", "test-twilio-auth-token"),
        ("TWILIO_API_BASE", "http://127.0.0.1:1"),
        ("TWILIO_FROM_NUMBER", "+15005550006"),
        ("STRIPE_SECRET_KEY", "sk_test_notasecret"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_notasecret"),
        ("STRIPE_API_BASE", "http://127.0.0.1:1"),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// Checks `bin` exits with status 2 and one stderr line naming `var` when `var` is unset.
///
/// # Errors
/// Describes the broken expectation.
pub async fn check_missing(bin: &str, base: &[(String, String)], var: &str) -> anyhow::Result<()> {
    let without: Vec<_> = base.iter().filter(|(k, _)| k != var).cloned().collect();
    expect_config_exit(bin, &without, var, "missing").await
}

/// Checks `bin` exits with status 2 and one stderr line naming `var` when `var` is `value`, and
/// that the line does not echo a secret value.
///
/// # Errors
/// Describes the broken expectation.
pub async fn check_malformed(
    bin: &str,
    base: &[(String, String)],
    var: &str,
    value: &str,
) -> anyhow::Result<()> {
    let mut env: Vec<_> = base.iter().filter(|(k, _)| k != var).cloned().collect();
    env.push((var.to_owned(), value.to_owned()));
    expect_config_exit(bin, &env, var, "malformed").await
}

async fn expect_config_exit(
    bin: &str,
    env: &[(String, String)],
    var: &str,
    case: &str,
) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .env_clear()
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        // A binary that wrongly starts instead of exiting must not outlive the test.
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(20), out)
        .await
        .with_context(|| format!("{bin} did not exit with {var} {case}"))??;
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(
        out.status.code() == Some(2),
        "{var} {case}: exit {:?}, stderr {stderr}",
        out.status
    );
    let lines: Vec<&str> = stderr.lines().collect();
    ensure!(
        lines.len() == 1,
        "{var} {case}: expected one line, got {lines:?}"
    );
    ensure!(
        lines[0].contains(var),
        "{var} {case}: line does not name it: {}",
        lines[0]
    );
    for (_, value) in env
        .iter()
        .filter(|(k, v)| SECRETS.contains(&k.as_str()) && v.len() >= 6)
    {
        ensure!(
            !stderr.contains(value.as_str()),
            "{var} {case}: stderr leaks a secret"
        );
    }
    Ok(())
}

/// Starts `bin` (as Postgres role `role`) behind switched-off proxies for Postgres and NATS,
/// and checks: `/healthz` 200 at once; `/readyz` 503 while either is unreachable and 200 once
/// both are; `/metrics` serves Prometheus text; SIGTERM exits 0.
///
/// # Errors
/// Describes the first broken expectation.
pub async fn check_lifecycle(bin: &str, role: &str) -> anyhow::Result<()> {
    let db = TestDb::migrated().await?;
    let pg_proxy = ToggleProxy::start(db.postgres_addr()?, false).await?;
    let nats_proxy = ToggleProxy::start(socket_of(&nats_url())?, false).await?;
    let db_url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3D{role}",
        pg_proxy.addr(),
        db.name
    );
    let env = service_env(&db_url, &format!("nats://{}", nats_proxy.addr()));
    let mut child = Command::new(bin)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?;
    let addr = discover_http_addr(&mut child).await?;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{addr}{path}");

    ensure!(
        status(&http, &url("/healthz")).await? == 200,
        "/healthz not 200"
    );
    ensure!(
        status(&http, &url("/readyz")).await? == 503,
        "/readyz not 503 with both down"
    );
    pg_proxy.enable();
    ensure!(
        status(&http, &url("/readyz")).await? == 503,
        "/readyz not 503 with NATS down"
    );
    nats_proxy.enable();
    wait_ready(&http, &url("/readyz"), 200).await?;
    pg_proxy.disable();
    wait_ready(&http, &url("/readyz"), 503).await?;
    pg_proxy.enable();
    wait_ready(&http, &url("/readyz"), 200).await?;

    let metrics = http.get(url("/metrics")).send().await?.text().await?;
    ensure!(
        metrics.contains("http_requests_total"),
        "/metrics lacks http_requests_total"
    );

    terminate(&mut child).await
}

async fn wait_ready(http: &reqwest::Client, url: &str, want: u16) -> anyhow::Result<()> {
    wait_until(
        &format!("{url} to answer {want}"),
        Duration::from_secs(30),
        || async { status(http, url).await.ok() == Some(want) },
    )
    .await
}

async fn status(http: &reqwest::Client, url: &str) -> anyhow::Result<u16> {
    Ok(http
        .get(url)
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .status()
        .as_u16())
}

/// Reads the JSON log until the "service host started" line and returns its `http_addr`.
async fn discover_http_addr(child: &mut Child) -> anyhow::Result<SocketAddr> {
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("\"http_addr\":\"").nth(1) {
                let addr = rest.split('"').next().unwrap_or_default();
                return Ok::<_, anyhow::Error>(Some(addr.parse::<SocketAddr>()?));
            }
        }
        Ok(None)
    })
    .await
    .context("the service did not log its address within 30 s")??;
    // Keep draining stdout so the service never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    found.context("the service exited before logging its address")
}

async fn terminate(child: &mut Child) -> anyhow::Result<()> {
    let pid = child.id().context("the service already exited")?;
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await?;
    ensure!(killed.success(), "kill -TERM failed");
    let exit = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .context("the service did not stop within 20 s of SIGTERM")??;
    if !exit.success() {
        bail!("the service exited with {exit} after SIGTERM");
    }
    Ok(())
}

fn socket_of(url: &str) -> anyhow::Result<SocketAddr> {
    let hostport = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport
        .parse()
        .with_context(|| format!("{url} is not host:port on an IP"))
}

/// Writes the three contract tests for a service binary: every missing setting and every
/// malformed one stops it with one line naming the variable, and the lifecycle check.
///
/// ```ignore
/// testkit::service_contract! {
///     bin: env!("CARGO_BIN_EXE_billing"),
///     role: "josh_billing",
///     missing: ["DATABASE_URL", "NATS_URL"],
///     malformed: [("HTTP_ADDR", "localhost")],
/// }
/// ```
#[macro_export]
macro_rules! service_contract {
    (
        bin: $bin:expr,
        role: $role:expr,
        missing: [$($missing:expr),* $(,)?],
        malformed: [$(($var:expr, $value:expr)),* $(,)?] $(,)?
    ) => {
        fn contract_env() -> Vec<(String, String)> {
            // Config errors stop the binary before it connects anywhere.
            $crate::service::service_env(
                "postgres://postgres@127.0.0.1:5432/postgres",
                "nats://127.0.0.1:4222",
            )
        }

        #[tokio::test]
        async fn each_missing_setting_stops_it_with_one_line_naming_it() {
            let base = contract_env();
            for var in [$($missing),*] {
                $crate::service::check_missing($bin, &base, var).await.unwrap();
            }
        }

        #[tokio::test]
        async fn each_malformed_setting_stops_it_with_one_line_naming_it() {
            let base = contract_env();
            for (var, value) in [$(($var, $value)),*] {
                $crate::service::check_malformed($bin, &base, var, value).await.unwrap();
            }
        }

        #[tokio::test]
        async fn readiness_follows_postgres_and_nats_and_sigterm_stops_it() {
            $crate::service::check_lifecycle($bin, $role).await.unwrap();
        }
    };
}
