//! linkup-matcher's settings, read from the environment and validated at start.

use std::net::SocketAddr;

use platform::config::{self, CommonConfig, ConfigError, Env};

/// Everything linkup-matcher needs to run. Secrets are redacted from `Debug`.
#[derive(Debug)]
pub struct Config {
    /// `DATABASE_URL`, `NATS_URL`, `HTTP_ADDR` (default `0.0.0.0:8083`), `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub common: CommonConfig,
    /// `GRPC_ADDR`: where the gRPC API binds (default `0.0.0.0:9083`).
    pub grpc_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: the base of LinkUp page links in texts.
    pub public_base_url: String,
    /// `JOSH_ENCRYPTION_KEYS` / `JOSH_ACTIVE_KEY_VERSION`: encrypts the texts the matcher sends.
    pub keyring: crypto::Keyring,
}

impl Config {
    /// Reads and validates every setting.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, 8083)?,
            grpc_addr: env.socket_addr_or("GRPC_ADDR", SocketAddr::from(([0, 0, 0, 0], 9083)))?,
            public_base_url: env.base_url("PUBLIC_BASE_URL")?,
            keyring: config::keyring(env)?,
        })
    }
}
