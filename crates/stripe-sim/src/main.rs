//! `stripe-sim`: the local Stripe for the dev stack.
//!
//! Settings: `STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRET` (the ones billing uses), `SIM_LISTEN`
//! (default `127.0.0.1:8092`), `SIM_WEBHOOK_URL` (default
//! `http://127.0.0.1:8084/v1/stripe/webhook`, billing), `RUST_LOG`. Stops cleanly on SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use platform::config::{ConfigError, Env};
use stripe_sim::{SimConfig, StripeSim};
use tokio_util::sync::CancellationToken;

const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8092);
const DEFAULT_WEBHOOK_URL: &str = "http://127.0.0.1:8084/v1/stripe/webhook";

fn main() -> ExitCode {
    platform::run_main("stripe-sim", load, run)
}

fn load(env: &Env) -> Result<SimConfig, ConfigError> {
    let secret_key = env.required("STRIPE_SECRET_KEY")?;
    let webhook_secret = env.required("STRIPE_WEBHOOK_SECRET")?;
    let listen = env.socket_addr_or("SIM_LISTEN", SocketAddr::from(DEFAULT_LISTEN))?;
    let url = env
        .optional("SIM_WEBHOOK_URL")
        .unwrap_or_else(|| DEFAULT_WEBHOOK_URL.to_owned());
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(ConfigError::malformed(
            "SIM_WEBHOOK_URL",
            "expected an http:// or https:// URL",
        ));
    }
    Ok(SimConfig {
        webhook_url: Some(url),
        listen,
        ..SimConfig::new(secret_key, webhook_secret)
    })
}

async fn run(config: SimConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    let sim = StripeSim::start(config).await?;
    shutdown.cancelled().await;
    sim.shutdown().await;
    tracing::info!("stripe-sim stopped");
    Ok(())
}
