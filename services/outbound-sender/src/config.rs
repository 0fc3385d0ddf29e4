//! outbound-sender's settings, read from the environment and validated at start.

use std::net::SocketAddr;

use platform::config::{self, CommonConfig, ConfigError, Env};
use secrecy::SecretString;

/// Everything outbound-sender needs to run. Secrets are redacted from `Debug`.
#[derive(Debug)]
pub struct Config {
    /// `DATABASE_URL`, `NATS_URL`, `HTTP_ADDR` (default `0.0.0.0:8085`), `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub common: CommonConfig,
    /// `GRPC_ADDR`: where the gRPC API binds (default `0.0.0.0:9085`).
    pub grpc_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: how Twilio reaches inbound-sms for status callbacks.
    pub public_base_url: String,
    /// `TWILIO_ACCOUNT_SID`: the account messages are sent from.
    pub twilio_account_sid: String,
    /// `TWILIO_AUTH_TOKEN`: basic-auth password for the Messages API.
    pub twilio_auth_token: SecretString,
    /// `TWILIO_API_BASE`: the Messages API (default `https://api.twilio.com`; the simulator in dev and tests).
    pub twilio_api_base: String,
    /// `TWILIO_MESSAGING_SERVICE_SID` or `TWILIO_FROM_NUMBER`: who messages come from.
    pub twilio_sender: config::TwilioSender,
    /// `JOSH_ENCRYPTION_KEYS` / `JOSH_ACTIVE_KEY_VERSION`: encrypts queued bodies at rest.
    pub keyring: crypto::Keyring,
}

impl Config {
    /// Reads and validates every setting.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, 8085)?,
            grpc_addr: env.socket_addr_or("GRPC_ADDR", SocketAddr::from(([0, 0, 0, 0], 9085)))?,
            public_base_url: env.base_url("PUBLIC_BASE_URL")?,
            twilio_account_sid: config::twilio_account_sid(env)?,
            twilio_auth_token: env.secret("TWILIO_AUTH_TOKEN")?,
            twilio_api_base: env.base_url_or("TWILIO_API_BASE", "https://api.twilio.com")?,
            twilio_sender: config::twilio_sender(env)?,
            keyring: config::keyring(env)?,
        })
    }
}
