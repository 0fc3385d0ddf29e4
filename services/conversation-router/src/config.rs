//! conversation-router's settings, read from the environment and validated at start.

use std::net::SocketAddr;

use platform::config::{self, CommonConfig, ConfigError, Env};

/// Everything conversation-router needs to run. Secrets are redacted from `Debug`.
#[derive(Debug)]
pub struct Config {
    /// `DATABASE_URL`, `NATS_URL`, `HTTP_ADDR` (default `0.0.0.0:8082`), `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub common: CommonConfig,
    /// `GRPC_ADDR`: where the gRPC API binds (default `0.0.0.0:9082`).
    pub grpc_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: the base of magic links sent by SMS.
    pub public_base_url: String,
    /// `JOSH_ENCRYPTION_KEYS` / `JOSH_ACTIVE_KEY_VERSION`: decrypts inbound bodies, encrypts replies.
    pub keyring: crypto::Keyring,
    /// `JOSH_PHONE_PEPPER`: keys phone hashes (and OTP hashes).
    pub phone_pepper: crypto::PhonePepper,
    /// `JOSH_PHONE_PEPPER` as well: keys the hashes of one-time codes.
    pub otp_key: crypto::OtpKey,
    /// `BILLING_GRPC_URL`: billing's gRPC API (entitlements, checkout links), validated, with the
    /// call timeouts.
    pub billing_endpoint: tonic::transport::Endpoint,
    /// `LINKUP_MATCHER_GRPC_URL`: the matcher's gRPC API.
    pub linkup_matcher_grpc_url: String,
}

impl Config {
    /// Reads and validates every setting.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, 8082)?,
            grpc_addr: env.socket_addr_or("GRPC_ADDR", SocketAddr::from(([0, 0, 0, 0], 9082)))?,
            public_base_url: env.base_url("PUBLIC_BASE_URL")?,
            keyring: config::keyring(env)?,
            phone_pepper: config::phone_pepper(env)?,
            otp_key: crypto::OtpKey::from_secret(&env.secret("JOSH_PHONE_PEPPER")?)
                .map_err(|e| ConfigError::malformed("JOSH_PHONE_PEPPER", e))?,
            billing_endpoint: crate::billing::endpoint(&config::peer_grpc_url(
                env,
                "BILLING_GRPC_URL",
                9084,
            )?)
            .map_err(|e| ConfigError::malformed("BILLING_GRPC_URL", e))?,
            linkup_matcher_grpc_url: config::peer_grpc_url(env, "LINKUP_MATCHER_GRPC_URL", 9083)?,
        })
    }
}
