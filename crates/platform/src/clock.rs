//! The one injectable clock: every time-based decision reads it, so tests and the demo can move
//! time forward instead of sleeping.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

mod setting;
mod simulated;

pub use setting::{ALLOW_VAR, CLOCK_VAR, ClockSetting};
pub use simulated::{BUCKET, OFFSET_KEY, OffsetStore, SimulatedClock, SimulatedClockError};

/// A boxed future, so [`Clock`] stays object-safe.
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of "now", and a way to wait for a later time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time (UTC).
    fn now(&self) -> OffsetDateTime;

    /// Resolves once [`Clock::now`] has reached `deadline`.
    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        let wait = deadline - OffsetDateTime::now_utc();
        Box::pin(async move {
            if let Ok(wait) = std::time::Duration::try_from(wait) {
                tokio::time::sleep(wait).await;
            }
        })
    }
}

/// A clock that stands still until moved, for tests and simulated time. A
/// [`Clock::sleep_until`] jumps it straight to the deadline (never back): a wait costs no real
/// time, but the clock shows it was waited.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<OffsetDateTime>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        {
            let mut now = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *now = (*now).max(deadline);
        }
        Box::pin(tokio::task::yield_now())
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[tokio::test]
    async fn a_manual_clock_jumps_to_deadlines_and_never_back() {
        let clock = ManualClock::at(datetime!(2026-11-22 10:00 UTC));
        clock.sleep_until(datetime!(2026-11-22 10:00:05 UTC)).await;
        assert_eq!(clock.now(), datetime!(2026-11-22 10:00:05 UTC));
        clock.sleep_until(datetime!(2026-11-22 10:00:01 UTC)).await;
        assert_eq!(clock.now(), datetime!(2026-11-22 10:00:05 UTC));
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(datetime!(2026-11-22 08:00 UTC));
        assert_eq!(clock.now(), datetime!(2026-11-22 08:00 UTC));
        clock.advance(Duration::hours(2));
        assert_eq!(clock.now(), datetime!(2026-11-22 10:00 UTC));
        clock.set(datetime!(2027-01-01 00:00 UTC));
        assert_eq!(clock.now(), datetime!(2027-01-01 00:00 UTC));
    }
}
