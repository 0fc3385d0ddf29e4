//! Per-sender rate limit: a token bucket in segments per second (a US long code sends one
//! segment a second), run as a GCRA so waiting callers are spaced exactly, never faster. A body
//! of N segments costs N tokens, so the next text waits N/rate seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

/// The rate limits of every sender this process sends from.
#[derive(Debug)]
pub struct RateLimiter {
    /// Emission interval of one segment.
    per_segment: Duration,
    /// How far ahead of its slot a burst may run (burst - 1 segments).
    tolerance: Duration,
    /// Theoretical arrival time per sender.
    next: Mutex<HashMap<String, OffsetDateTime>>,
}

impl RateLimiter {
    /// `segments_per_second` per sender, with bursts of up to that many segments (at least 1).
    pub fn new(segments_per_second: f64) -> Self {
        let rate = if segments_per_second.is_finite() && segments_per_second > 0.0 {
            segments_per_second
        } else {
            1.0
        };
        let per_segment = Duration::from_secs_f64(1.0 / rate);
        let burst = rate.max(1.0).floor();
        Self {
            per_segment,
            tolerance: per_segment.mul_f64(burst - 1.0),
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Reserves `segments` tokens of `sender` at `now`, returning when the caller may send
    /// (`now` when tokens are available). The reservation is made at once, so concurrent callers
    /// get consecutive slots.
    pub fn reserve(&self, sender: &str, segments: u32, now: OffsetDateTime) -> OffsetDateTime {
        let mut next = match self.next.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let tat = next.get(sender).copied().unwrap_or(now).max(now);
        let allowed = (tat - self.tolerance).max(now);
        let cost = self.per_segment * segments.max(1);
        next.insert(sender.to_owned(), tat + cost);
        allowed
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    #[test]
    fn one_segment_a_second_spaces_a_backlog_by_seconds() {
        let limiter = RateLimiter::new(1.0);
        let slots: Vec<_> = (0..50).map(|_| limiter.reserve("+1500", 1, T0)).collect();
        assert_eq!(slots[0], T0);
        for pair in slots.windows(2) {
            assert_eq!(pair[1] - pair[0], time::Duration::SECOND);
        }
        assert_eq!(slots[49] - slots[0], time::Duration::seconds(49));
    }

    #[test]
    fn a_three_segment_text_costs_three_tokens() {
        let limiter = RateLimiter::new(1.0);
        assert_eq!(limiter.reserve("+1500", 3, T0), T0);
        assert_eq!(
            limiter.reserve("+1500", 1, T0),
            T0 + time::Duration::seconds(3)
        );
    }

    #[test]
    fn senders_are_independent_and_idle_time_refills() {
        let limiter = RateLimiter::new(1.0);
        assert_eq!(limiter.reserve("+1500", 1, T0), T0);
        assert_eq!(limiter.reserve("+1600", 1, T0), T0);
        let later = T0 + time::Duration::seconds(10);
        assert_eq!(limiter.reserve("+1500", 1, later), later);
    }

    #[test]
    fn a_faster_sender_allows_its_burst() {
        let limiter = RateLimiter::new(10.0);
        let slots: Vec<_> = (0..12).map(|_| limiter.reserve("MG1", 1, T0)).collect();
        assert!(slots[..10].iter().all(|s| *s == T0));
        assert!(slots[10] > T0);
    }
}
