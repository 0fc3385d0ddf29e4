//! The one clock every time decision reads (quiet hours, run times, leases, backoff, the rate
//! limit), so tests and the demo can move time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

/// A boxed future, for the object-safe [`Clock`].
pub type Sleep<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What time it is, and waiting for a time.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;

    /// Resolves once [`Clock::now`] has reached `deadline`.
    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_>;
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        let wait = deadline - OffsetDateTime::now_utc();
        Box::pin(async move {
            if let Ok(wait) = Duration::try_from(wait) {
                tokio::time::sleep(wait).await;
            }
        })
    }
}

/// A clock that moves only when told: [`ManualClock::set`] and [`ManualClock::advance`], or a
/// [`Clock::sleep_until`], which jumps straight to its deadline (simulated time: a wait costs
/// no real time, but the clock shows it was waited).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut OffsetDateTime) -> T) -> T {
        let mut guard = match self.now.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Sets the time (backwards too).
    pub fn set(&self, at: OffsetDateTime) {
        self.with(|now| *now = at);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.with(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        self.with(|now| *now)
    }

    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep<'_> {
        self.with(|now| *now = (*now).max(deadline));
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[tokio::test]
    async fn a_manual_clock_jumps_to_deadlines_and_never_back() {
        let clock = ManualClock::new(datetime!(2026-11-22 10:00 UTC));
        clock.sleep_until(datetime!(2026-11-22 10:00:05 UTC)).await;
        assert_eq!(clock.now(), datetime!(2026-11-22 10:00:05 UTC));
        clock.sleep_until(datetime!(2026-11-22 10:00:01 UTC)).await;
        assert_eq!(clock.now(), datetime!(2026-11-22 10:00:05 UTC));
        clock.advance(Duration::from_secs(60));
        assert_eq!(clock.now(), datetime!(2026-11-22 10:01:05 UTC));
    }
}
