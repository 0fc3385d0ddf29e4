//! billing's settings, read from the environment and validated at start.

use std::net::SocketAddr;
use std::time::Duration;

use platform::config::{self, CommonConfig, ConfigError, Env};
use secrecy::ExposeSecret;
use secrecy::SecretString;

/// Everything billing needs to run. Secrets are redacted from `Debug`.
#[derive(Debug)]
pub struct Config {
    /// `DATABASE_URL`, `NATS_URL`, `HTTP_ADDR` (default `0.0.0.0:8084`), `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub common: CommonConfig,
    /// `GRPC_ADDR`: where the gRPC API binds (default `0.0.0.0:9084`).
    pub grpc_addr: SocketAddr,
    /// `PUBLIC_BASE_URL`: where Stripe sends members back after checkout.
    pub public_base_url: String,
    /// `STRIPE_SECRET_KEY`: API key (`sk_...` or restricted `rk_...`).
    pub stripe_secret_key: SecretString,
    /// `STRIPE_WEBHOOK_SECRET`: signing secret of `Stripe-Signature` (`whsec_...`).
    pub stripe_webhook_secret: SecretString,
    /// `JOSH_ENCRYPTION_KEYS` / `JOSH_ACTIVE_KEY_VERSION`: encrypts the texts billing sends.
    pub keyring: crypto::Keyring,
    /// `STRIPE_PRICE_MONTHLY` / `STRIPE_PRICE_ANNUAL`: the plan's prices (default the
    /// simulator's `price_josh_monthly` / `price_josh_annual`).
    pub stripe_prices: Prices,
    /// `STRIPE_API_BASE`: the Stripe API (default `https://api.stripe.com`; the simulator in dev and tests).
    pub stripe_api_base: String,
    /// `BILLING_RECONCILE_INTERVAL_SECS`: how often the service runs the reconciliation pass
    /// itself (default 900, at most 86400). `0` turns the in-process pass off, for deployments
    /// where a scheduler runs `billing reconcile` (one pass, then exit) instead.
    pub reconcile_interval: Option<Duration>,
}

/// The Stripe price ids of the one plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices {
    /// $39.99 a month.
    pub monthly: String,
    /// $399 a year.
    pub annual: String,
}

impl Config {
    /// Reads and validates every setting.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env, 8084)?,
            grpc_addr: env.socket_addr_or("GRPC_ADDR", SocketAddr::from(([0, 0, 0, 0], 9084)))?,
            public_base_url: env.base_url("PUBLIC_BASE_URL")?,
            stripe_secret_key: stripe_secret_key(env)?,
            stripe_webhook_secret: stripe_webhook_secret(env)?,
            keyring: config::keyring(env)?,
            stripe_prices: Prices {
                monthly: env
                    .optional("STRIPE_PRICE_MONTHLY")
                    .unwrap_or_else(|| "price_josh_monthly".to_owned()),
                annual: env
                    .optional("STRIPE_PRICE_ANNUAL")
                    .unwrap_or_else(|| "price_josh_annual".to_owned()),
            },
            stripe_api_base: env.base_url_or("STRIPE_API_BASE", "https://api.stripe.com")?,
            reconcile_interval: env.parsed_or(
                "BILLING_RECONCILE_INTERVAL_SECS",
                Some(crate::reconcile::PERIOD),
                |v| match v.parse::<u64>() {
                    Ok(0) => Ok(None),
                    Ok(n @ 1..=86_400) => Ok(Some(Duration::from_secs(n))),
                    _ => Err("expected whole seconds from 0 (off) to 86400"),
                },
            )?,
        })
    }
}

fn stripe_secret_key(env: &Env) -> Result<SecretString, ConfigError> {
    let key = env.secret("STRIPE_SECRET_KEY")?;
    let ok = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
        .iter()
        .any(|p| key.expose_secret().starts_with(p));
    if !ok {
        return Err(ConfigError::malformed(
            "STRIPE_SECRET_KEY",
            "expected sk_test_..., sk_live_... or rk_...",
        ));
    }
    Ok(key)
}

fn stripe_webhook_secret(env: &Env) -> Result<SecretString, ConfigError> {
    let secret = env.secret("STRIPE_WEBHOOK_SECRET")?;
    if !secret.expose_secret().starts_with("whsec_") {
        return Err(ConfigError::malformed(
            "STRIPE_WEBHOOK_SECRET",
            "expected whsec_...",
        ));
    }
    Ok(secret)
}
