//! Typed configuration from environment variables.
//!
//! Every setting is read through [`Env`], which names the variable in every error, so a bad
//! deployment stops at start with one clear line such as
//! `invalid configuration: NATS_URL is malformed: expected nats://host:port`.
//! Secret values are held in [`SecretString`] and never appear in errors, logs or `Debug`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;

use secrecy::{ExposeSecret, SecretString};

/// A setting that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var} {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: String,
    /// What is wrong with it (never its value when it is a secret).
    pub problem: String,
}

impl ConfigError {
    /// A malformed-value error for `var`.
    pub fn malformed(var: &str, why: impl fmt::Display) -> Self {
        Self {
            var: var.to_owned(),
            problem: format!("is malformed: {why}"),
        }
    }

    fn missing(var: &str) -> Self {
        Self {
            var: var.to_owned(),
            problem: "is missing".to_owned(),
        }
    }
}

/// A source of settings: the process environment, or a fixed map in tests.
#[derive(Clone)]
pub struct Env {
    vars: HashMap<String, String>,
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: list names only.
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env").field("names", &names).finish()
    }
}

impl Env {
    /// The current process environment.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars().collect(),
        }
    }

    /// A fixed set of variables (for tests and tools).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `var` if set and not blank.
    pub fn optional(&self, var: &str) -> Option<String> {
        self.vars
            .get(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value of `var`, which must be set and not blank.
    ///
    /// # Errors
    /// [`ConfigError`] naming `var` when it is missing.
    pub fn required(&self, var: &str) -> Result<String, ConfigError> {
        self.optional(var).ok_or_else(|| ConfigError::missing(var))
    }

    /// A required secret. Its value never appears in errors.
    ///
    /// # Errors
    /// [`ConfigError`] naming `var` when it is missing.
    pub fn secret(&self, var: &str) -> Result<SecretString, ConfigError> {
        self.required(var).map(SecretString::from)
    }

    /// `var` parsed with `parse`, or `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming `var` when the value does not parse.
    pub fn parsed_or<T, E: fmt::Display>(
        &self,
        var: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, ConfigError> {
        match self.optional(var) {
            None => Ok(default),
            Some(v) => parse(&v).map_err(|e| ConfigError::malformed(var, e)),
        }
    }

    /// A listen address such as `0.0.0.0:8081`, or `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming `var` when the value is not `host:port`.
    pub fn socket_addr_or(
        &self,
        var: &str,
        default: SocketAddr,
    ) -> Result<SocketAddr, ConfigError> {
        self.parsed_or(var, default, |v| {
            v.parse::<SocketAddr>()
                .map_err(|_| "expected ip:port, e.g. 0.0.0.0:8081")
        })
    }

    /// An `http(s)://` base URL without a trailing slash, or `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming `var` when the value is not an http(s) URL.
    pub fn base_url_or(&self, var: &str, default: &str) -> Result<String, ConfigError> {
        let value = self.optional(var).unwrap_or_else(|| default.to_owned());
        validate_base_url(&value).map_err(|why| ConfigError::malformed(var, why))
    }

    /// A required `http(s)://` base URL without a trailing slash.
    ///
    /// # Errors
    /// [`ConfigError`] naming `var` when it is missing or not an http(s) URL.
    pub fn base_url(&self, var: &str) -> Result<String, ConfigError> {
        let value = self.required(var)?;
        validate_base_url(&value).map_err(|why| ConfigError::malformed(var, why))
    }
}

fn validate_base_url(value: &str) -> Result<String, &'static str> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or("expected an http:// or https:// URL")?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(char::is_whitespace) || value.contains(['?', '#']) {
        return Err("expected scheme://host[:port][/path] with no query or fragment");
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// Settings every service has.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `DATABASE_URL`: Postgres, connecting as this service's own role. Secret (may hold a password).
    pub database_url: SecretString,
    /// `NATS_URL`: the NATS JetStream server, e.g. `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `NATS_STREAM_REPLICAS`: replicas of each JetStream stream (default 1; 3 on the
    /// production cluster).
    pub nats_stream_replicas: usize,
    /// `HTTP_ADDR`: where the HTTP listener binds (webhooks, health, metrics).
    pub http_addr: SocketAddr,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: optional OTLP collector for traces.
    pub otlp_endpoint: Option<String>,
}

impl CommonConfig {
    /// Reads the common settings, with `default_http_port` for `HTTP_ADDR` when unset.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or malformed variable.
    pub fn from_env(env: &Env, default_http_port: u16) -> Result<Self, ConfigError> {
        let database_url = env.secret("DATABASE_URL")?;
        validate_database_url(database_url.expose_secret())
            .map_err(|why| ConfigError::malformed("DATABASE_URL", why))?;
        let nats_url = env.required("NATS_URL")?;
        validate_nats_url(&nats_url).map_err(|why| ConfigError::malformed("NATS_URL", why))?;
        let nats_stream_replicas =
            env.parsed_or("NATS_STREAM_REPLICAS", 1, |v| match v.parse::<usize>() {
                Ok(n @ 1..=5) => Ok(n),
                _ => Err("expected a whole number from 1 to 5"),
            })?;
        let http_addr = env.socket_addr_or(
            "HTTP_ADDR",
            SocketAddr::from(([0, 0, 0, 0], default_http_port)),
        )?;
        let otlp_endpoint = match env.optional("OTEL_EXPORTER_OTLP_ENDPOINT") {
            None => None,
            Some(_) => Some(env.base_url("OTEL_EXPORTER_OTLP_ENDPOINT")?),
        };
        Ok(Self {
            database_url,
            nats_url,
            nats_stream_replicas,
            http_addr,
            otlp_endpoint,
        })
    }
}

fn validate_database_url(url: &str) -> Result<(), &'static str> {
    // Never echo the URL: it may carry a password.
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err("expected postgres://user[:password]@host[:port]/database");
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map(|_| ())
        .map_err(|_| "expected postgres://user[:password]@host[:port]/database")
}

fn validate_nats_url(url: &str) -> Result<(), &'static str> {
    url.split(',')
        .try_for_each(|one| one.trim().parse::<async_nats::ServerAddr>().map(|_| ()))
        .map_err(|_| "expected nats://host:port (comma-separated for several servers)")
}

/// A gRPC address of another service (`<SERVICE>_GRPC_URL`), defaulting to its standard port
/// on loopback so the whole stack runs on one machine with no settings beyond the secrets.
///
/// # Errors
/// [`ConfigError`] naming `var` when the value is not an http(s) URL.
pub fn peer_grpc_url(env: &Env, var: &str, default_port: u16) -> Result<String, ConfigError> {
    env.base_url_or(var, &format!("http://127.0.0.1:{default_port}"))
}

/// Loads the message-body keyring from `JOSH_ENCRYPTION_KEYS` and `JOSH_ACTIVE_KEY_VERSION`.
///
/// # Errors
/// [`ConfigError`] naming the variable when either is missing or the keyring is invalid.
pub fn keyring(env: &Env) -> Result<crypto::Keyring, ConfigError> {
    let keys = env.secret("JOSH_ENCRYPTION_KEYS")?;
    let active = env.required("JOSH_ACTIVE_KEY_VERSION")?;
    crypto::Keyring::from_config(keys.expose_secret(), &active).map_err(|e| {
        let about_active = matches!(
            e,
            crypto::CryptoError::InvalidActiveVersion
                | crypto::CryptoError::ActiveVersionMissing { .. }
        );
        let var = if about_active {
            "JOSH_ACTIVE_KEY_VERSION"
        } else {
            "JOSH_ENCRYPTION_KEYS"
        };
        ConfigError::malformed(var, e)
    })
}

/// Loads the phone-hash pepper from `JOSH_PHONE_PEPPER`.
///
/// # Errors
/// [`ConfigError`] when it is missing or shorter than 16 characters.
pub fn phone_pepper(env: &Env) -> Result<crypto::PhonePepper, ConfigError> {
    let pepper = env.secret("JOSH_PHONE_PEPPER")?;
    if pepper.expose_secret().len() < 16 {
        return Err(ConfigError::malformed(
            "JOSH_PHONE_PEPPER",
            "must be at least 16 characters",
        ));
    }
    crypto::PhonePepper::from_secret(&pepper)
        .map_err(|e| ConfigError::malformed("JOSH_PHONE_PEPPER", e))
}

/// `TWILIO_ACCOUNT_SID`: `AC` followed by 32 hex digits.
///
/// # Errors
/// [`ConfigError`] when missing or malformed.
pub fn twilio_account_sid(env: &Env) -> Result<String, ConfigError> {
    let sid = env.required("TWILIO_ACCOUNT_SID")?;
    if !is_sid(&sid, "AC") {
        return Err(ConfigError::malformed(
            "TWILIO_ACCOUNT_SID",
            "expected AC followed by 32 hex digits",
        ));
    }
    Ok(sid)
}

/// How outbound messages name their sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioSender {
    /// `TWILIO_FROM_NUMBER`: one E.164 number.
    From(String),
    /// `TWILIO_MESSAGING_SERVICE_SID`: a Messaging Service (`MG` + 32 hex) picks the number.
    MessagingService(String),
}

/// `TWILIO_MESSAGING_SERVICE_SID` if set, else `TWILIO_FROM_NUMBER`; one of them is required.
///
/// # Errors
/// [`ConfigError`] when both are missing or the one given is malformed.
pub fn twilio_sender(env: &Env) -> Result<TwilioSender, ConfigError> {
    if let Some(sid) = env.optional("TWILIO_MESSAGING_SERVICE_SID") {
        if !is_sid(&sid, "MG") {
            return Err(ConfigError::malformed(
                "TWILIO_MESSAGING_SERVICE_SID",
                "expected MG followed by 32 hex digits",
            ));
        }
        return Ok(TwilioSender::MessagingService(sid));
    }
    let from = env
        .optional("TWILIO_FROM_NUMBER")
        .ok_or_else(|| ConfigError {
            var: "TWILIO_FROM_NUMBER".to_owned(),
            problem: "is missing (or set TWILIO_MESSAGING_SERVICE_SID)".to_owned(),
        })?;
    crypto::validate_e164(&from).map_err(|e| ConfigError::malformed("TWILIO_FROM_NUMBER", e))?;
    Ok(TwilioSender::From(from))
}

fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests;
