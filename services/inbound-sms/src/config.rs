//! inbound-sms's settings, read from the environment and validated at start.

use std::net::SocketAddr;

use platform::config::{self, CommonConfig, ConfigError, Env};
use secrecy::SecretString;

/// Everything inbound-sms needs to run. Secrets are redacted from `Debug`.
#[derive(Debug)]
pub struct Config {
    /// `DATABASE_URL`, `NATS_URL`, `HTTP_ADDR` (default `0.0.0.0:8081`), `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub common: CommonConfig,
    /// `GRPC_ADDR`: where the admin gRPC API (`InboundAdmin`) binds (default `0.0.0.0:9081`).
    pub grpc_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: how Twilio sees us; the signed webhook URL is rebuilt from it.
    pub public_base_url: String,
    /// `TWILIO_ACCOUNT_SID`: inbound requests must carry this AccountSid.
    pub twilio_account_sid: String,
    /// `TWILIO_AUTH_TOKEN`: the key of Twilio's `X-Twilio-Signature`.
    pub twilio_auth_token: SecretString,
    /// `JOSH_ENCRYPTION_KEYS` / `JOSH_ACTIVE_KEY_VERSION`: encrypts stored bodies (and decrypts
    /// them for the admin API's messages view and export).
    pub keyring: crypto::Keyring,
    /// `JOSH_PHONE_PEPPER`: keys the phone hash used to find the sender.
    pub phone_pepper: crypto::PhonePepper,
}

impl Config {
    /// Reads and validates every setting.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, 8081)?,
            grpc_addr: env.socket_addr_or("GRPC_ADDR", SocketAddr::from(([0, 0, 0, 0], 9081)))?,
            public_base_url: env.base_url("PUBLIC_BASE_URL")?,
            twilio_account_sid: config::twilio_account_sid(env)?,
            twilio_auth_token: env.secret("TWILIO_AUTH_TOKEN")?,
            keyring: config::keyring(env)?,
            phone_pepper: config::phone_pepper(env)?,
        })
    }
}
