//! `twilio-sim`: the local Twilio for the dev stack.
//!
//! Settings: `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` (the credentials JOSH's services use),
//! `SIM_LISTEN` (default `127.0.0.1:8091`), `SIM_INBOUND_WEBHOOK_URL` (default
//! `http://127.0.0.1:8081/v1/twilio/sms`, inbound-sms), `SIM_CALLBACK_DELAY_MS` (default 50),
//! `SIM_AUTO_CALLBACKS` (default true), `TWILIO_FROM_NUMBER` (optional: JOSH's number, the
//! default recipient of `joshctl phone`), `RUST_LOG`. JSON logs; stops cleanly on SIGTERM/Ctrl-C.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use platform::config::{ConfigError, Env};
use tokio_util::sync::CancellationToken;
use twilio_sim::{SimConfig, Simulator};

const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 8091);
const DEFAULT_INBOUND_URL: &str = "http://127.0.0.1:8081/v1/twilio/sms";

fn main() -> ExitCode {
    platform::run_main("twilio-sim", load, run)
}

/// The simulator's config, and JOSH's number (`TWILIO_FROM_NUMBER`, optional) for phones.
fn load(env: &Env) -> Result<(SimConfig, Option<String>), ConfigError> {
    let account_sid = platform::config::twilio_account_sid(env)?;
    let auth_token = env.required("TWILIO_AUTH_TOKEN")?;
    let listen = env.socket_addr_or("SIM_LISTEN", SocketAddr::from(DEFAULT_LISTEN))?;
    let inbound = env
        .optional("SIM_INBOUND_WEBHOOK_URL")
        .unwrap_or_else(|| DEFAULT_INBOUND_URL.to_owned());
    if !inbound.starts_with("http://") && !inbound.starts_with("https://") {
        return Err(ConfigError::malformed(
            "SIM_INBOUND_WEBHOOK_URL",
            "expected an http:// or https:// URL",
        ));
    }
    let delay_ms = env.parsed_or("SIM_CALLBACK_DELAY_MS", 50_u64, str::parse)?;
    let auto_callbacks = env.parsed_or("SIM_AUTO_CALLBACKS", true, str::parse)?;
    let config = SimConfig {
        listen,
        inbound_webhook_url: Some(inbound),
        auto_callbacks,
        callback_delay: Duration::from_millis(delay_ms),
        ..SimConfig::new(account_sid, auth_token)
    };
    Ok((config, env.optional("TWILIO_FROM_NUMBER")))
}

async fn run(
    (config, josh_number): (SimConfig, Option<String>),
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let simulator = Simulator::start(config).await?;
    simulator.set_josh_number(josh_number);
    shutdown.cancelled().await;
    simulator.shutdown().await;
    tracing::info!("twilio-sim stopped");
    Ok(())
}
