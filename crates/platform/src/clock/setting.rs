//! `JOSH_CLOCK`: which clock a service runs on.

use std::sync::Arc;

use super::simulated::{BUCKET, OffsetStore, SimulatedClock, SimulatedClockError};
use super::{SharedClock, SystemClock};
use crate::config::{ConfigError, Env};

/// The setting that selects the clock.
pub const CLOCK_VAR: &str = "JOSH_CLOCK";
/// The setting that must be `true` before `JOSH_CLOCK=simulated` is accepted.
pub const ALLOW_VAR: &str = "JOSH_ALLOW_SIMULATED_CLOCK";

/// Which clock a service runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockSetting {
    /// `JOSH_CLOCK=system` (the default): wall time.
    System,
    /// `JOSH_CLOCK=simulated`: wall time plus the offset shared over NATS
    /// ([`SimulatedClock`]); dev and demos only, so it also needs `JOSH_ALLOW_SIMULATED_CLOCK=true`.
    Simulated {
        /// `NATS_URL`: the server holding the shared offset.
        nats_url: String,
    },
}

impl ClockSetting {
    /// Reads `JOSH_CLOCK` (and, for `simulated`, `JOSH_ALLOW_SIMULATED_CLOCK` and `NATS_URL`).
    ///
    /// # Errors
    /// [`ConfigError`] for an unknown clock, or a simulated one that is not explicitly allowed.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.optional(CLOCK_VAR).as_deref() {
            None | Some("system") => Ok(Self::System),
            Some("simulated") => {
                if env.optional(ALLOW_VAR).as_deref() != Some("true") {
                    return Err(ConfigError::malformed(
                        CLOCK_VAR,
                        format!(
                            "simulated time is for dev and demos only; set {ALLOW_VAR}=true to allow it"
                        ),
                    ));
                }
                Ok(Self::Simulated {
                    nats_url: env.required("NATS_URL")?,
                })
            }
            Some(_) => Err(ConfigError::malformed(
                CLOCK_VAR,
                "expected system or simulated",
            )),
        }
    }

    /// Starts the clock: the system clock, or a [`SimulatedClock`] following the shared offset in
    /// the [`BUCKET`] bucket.
    ///
    /// # Errors
    /// When the simulated clock cannot reach NATS or read the offset.
    pub async fn start(&self) -> Result<SharedClock, SimulatedClockError> {
        match self {
            Self::System => Ok(Arc::new(SystemClock)),
            Self::Simulated { nats_url } => {
                let client = async_nats::connect(nats_url.as_str())
                    .await
                    .map_err(|source| SimulatedClockError::Bucket {
                        bucket: BUCKET.to_owned(),
                        source: source.into(),
                    })?;
                let clock =
                    SimulatedClock::follow(OffsetStore::open(client, BUCKET).await?).await?;
                tracing::warn!(
                    offset_seconds = clock.offset().whole_seconds(),
                    "running on the shared simulated clock (JOSH_CLOCK=simulated)"
                );
                Ok(Arc::new(clock))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(pairs: &[(&str, &str)]) -> Result<ClockSetting, ConfigError> {
        ClockSetting::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    #[test]
    fn the_system_clock_is_the_default() {
        assert_eq!(setting(&[]).unwrap(), ClockSetting::System);
        assert_eq!(
            setting(&[("JOSH_CLOCK", "system")]).unwrap(),
            ClockSetting::System
        );
    }

    #[test]
    fn simulated_time_must_be_allowed_explicitly() {
        let refused =
            setting(&[("JOSH_CLOCK", "simulated"), ("NATS_URL", "nats://x:4222")]).unwrap_err();
        assert_eq!(refused.var, "JOSH_CLOCK");
        assert!(refused.problem.contains(ALLOW_VAR), "{}", refused.problem);
        let allowed = setting(&[
            ("JOSH_CLOCK", "simulated"),
            (ALLOW_VAR, "true"),
            ("NATS_URL", "nats://x:4222"),
        ])
        .unwrap();
        assert_eq!(
            allowed,
            ClockSetting::Simulated {
                nats_url: "nats://x:4222".to_owned()
            }
        );
    }

    #[test]
    fn an_unknown_clock_is_refused() {
        let error = setting(&[("JOSH_CLOCK", "manual")]).unwrap_err();
        assert_eq!(error.var, "JOSH_CLOCK");
    }
}
