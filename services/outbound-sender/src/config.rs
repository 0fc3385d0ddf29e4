//! outbound-sender's settings, read from the environment and validated at start.

use std::net::SocketAddr;
use std::time::Duration;

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
    /// `JOSH_PHONE_PEPPER`: hashes recipients for the suppression list.
    pub phone_pepper: crypto::PhonePepper,
    /// The sending engine's tunables (`OUTBOUND_*`).
    pub tuning: Tuning,
}

/// How fast and how persistently the sender works.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// `OUTBOUND_SENDER_MPS`: segments per second per sender (default 1, a US long code).
    pub segments_per_second: f64,
    /// `OUTBOUND_MAX_ATTEMPTS`: tries before a retryable failure becomes final (default 6).
    pub max_attempts: u32,
    /// `OUTBOUND_WORKERS`: jobs sent concurrently (default 2; the rate limit is shared).
    pub workers: usize,
    /// `OUTBOUND_RECONCILE_INTERVAL_SECS`: how often stuck statuses are checked (default 300).
    pub reconcile_interval: Duration,
    /// `OUTBOUND_RECONCILE_AFTER_SECS`: a status unchanged this long is asked for (default 900).
    pub reconcile_after: Duration,
    /// `TWILIO_TIMEOUT_SECS`: per-request timeout of the Messages API (default 15).
    pub twilio_timeout: Duration,
    /// `OUTBOUND_INSTANCE_ID`: names this process in job leases, the same across restarts of one
    /// deployment slot (on Kubernetes, the pod's name) and never shared by two running
    /// senders; at start the sender takes back the jobs it held before a crash instead of
    /// waiting out their leases. Up to 200 of `A-Z a-z 0-9 . _ -`. Default: a random name per
    /// process (jobs held by a crashed process then wait for their lease to run out).
    pub instance_id: Option<String>,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            segments_per_second: 1.0,
            max_attempts: 6,
            workers: 2,
            reconcile_interval: Duration::from_secs(300),
            reconcile_after: Duration::from_secs(900),
            twilio_timeout: Duration::from_secs(15),
            instance_id: None,
        }
    }
}

impl Tuning {
    /// Reads the `OUTBOUND_*` and `TWILIO_TIMEOUT_SECS` settings, each defaulted when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming a malformed variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let secs = |var: &str, default: Duration, max: u64| {
            env.parsed_or(var, default, |v| match v.parse::<u64>() {
                Ok(n @ 1..) if n <= max => Ok(Duration::from_secs(n)),
                _ => Err(format!("expected whole seconds from 1 to {max}")),
            })
        };
        Ok(Self {
            segments_per_second: env.parsed_or(
                "OUTBOUND_SENDER_MPS",
                d.segments_per_second,
                |v| match v.parse::<f64>() {
                    Ok(n) if n.is_finite() && n > 0.0 && n <= 10_000.0 => Ok(n),
                    _ => Err("expected segments per second, a number above 0 and up to 10000"),
                },
            )?,
            max_attempts: env.parsed_or("OUTBOUND_MAX_ATTEMPTS", d.max_attempts, |v| match v
                .parse::<u32>()
            {
                Ok(n @ 1..=100) => Ok(n),
                _ => Err("expected a whole number from 1 to 100"),
            })?,
            workers: env.parsed_or("OUTBOUND_WORKERS", d.workers, |v| {
                match v.parse::<usize>() {
                    Ok(n @ 1..=64) => Ok(n),
                    _ => Err("expected a whole number from 1 to 64"),
                }
            })?,
            reconcile_interval: secs(
                "OUTBOUND_RECONCILE_INTERVAL_SECS",
                d.reconcile_interval,
                86_400,
            )?,
            reconcile_after: secs("OUTBOUND_RECONCILE_AFTER_SECS", d.reconcile_after, 86_400)?,
            twilio_timeout: secs("TWILIO_TIMEOUT_SECS", d.twilio_timeout, 120)?,
            instance_id: instance_id(env)?,
        })
    }
}

/// `OUTBOUND_INSTANCE_ID`, when set.
fn instance_id(env: &Env) -> Result<Option<String>, ConfigError> {
    const VAR: &str = "OUTBOUND_INSTANCE_ID";
    let Some(id) = env.optional(VAR) else {
        return Ok(None);
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if id.is_empty() || id.len() > 200 || !id.chars().all(allowed) {
        return Err(ConfigError::malformed(
            VAR,
            "expected 1 to 200 of A-Z a-z 0-9 . _ - (e.g. the pod's name)",
        ));
    }
    Ok(Some(id))
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
            phone_pepper: config::phone_pepper(env)?,
            tuning: Tuning::from_env(env)?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tuning_defaults_and_overrides() {
        assert_eq!(
            Tuning::from_env(&Env::from_pairs::<&str, &str>([])).unwrap(),
            Tuning::default()
        );
        let env = Env::from_pairs([
            ("OUTBOUND_SENDER_MPS", "2.5"),
            ("OUTBOUND_MAX_ATTEMPTS", "3"),
        ]);
        let tuning = Tuning::from_env(&env).unwrap();
        assert!((tuning.segments_per_second - 2.5).abs() < f64::EPSILON);
        assert_eq!(tuning.max_attempts, 3);
        let env = Env::from_pairs([("OUTBOUND_INSTANCE_ID", "outbound-sender-7f9c4-x2x9z")]);
        let tuning = Tuning::from_env(&env).unwrap();
        assert_eq!(
            tuning.instance_id.as_deref(),
            Some("outbound-sender-7f9c4-x2x9z")
        );
    }

    #[test]
    fn malformed_tuning_names_the_variable() {
        for (var, value) in [
            ("OUTBOUND_SENDER_MPS", "0"),
            ("OUTBOUND_SENDER_MPS", "fast"),
            ("OUTBOUND_MAX_ATTEMPTS", "0"),
            ("OUTBOUND_RECONCILE_INTERVAL_SECS", "-1"),
            ("OUTBOUND_INSTANCE_ID", "pod/0"),
            ("OUTBOUND_INSTANCE_ID", "pod name"),
        ] {
            let error = Tuning::from_env(&Env::from_pairs([(var, value)])).unwrap_err();
            assert_eq!(error.var, var);
        }
    }
}
