//! Time window buckets (`SAT_MORNING`), when they start in a region's timezone, the acceptance
//! window that fits before them, and the reminder time. Pure functions over the given instant.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use time::{Duration, OffsetDateTime};

/// The timezone used when a region names none.
pub const DEFAULT_TIMEZONE: &str = "America/New_York";
/// The acceptance window lasts at most this long from broadcast.
pub const ACCEPTANCE: Duration = Duration::hours(24);
/// The acceptance window ends at least this long before the time window starts.
pub const LEAD: Duration = Duration::hours(3);
/// A request leaving less acceptance time than this is refused with a later suggestion.
pub const MIN_ACCEPTANCE: Duration = Duration::hours(2);

/// A part of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayPart {
    /// 09:00-12:00.
    Morning,
    /// 12:00-17:00.
    Afternoon,
    /// 17:00-21:00.
    Evening,
}

impl DayPart {
    const ALL: [Self; 3] = [Self::Morning, Self::Afternoon, Self::Evening];

    /// Local start and end hour.
    pub fn hours(self) -> (i8, i8) {
        match self {
            Self::Morning => (9, 12),
            Self::Afternoon => (12, 17),
            Self::Evening => (17, 21),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Morning => "MORNING",
            Self::Afternoon => "AFTERNOON",
            Self::Evening => "EVENING",
        }
    }

    /// The profile's `preferred_windows` word for this part.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "day",
            Self::Evening => "evening",
        }
    }
}

const DAYS: [(&str, Weekday); 7] = [
    ("MON", Weekday::Monday),
    ("TUE", Weekday::Tuesday),
    ("WED", Weekday::Wednesday),
    ("THU", Weekday::Thursday),
    ("FRI", Weekday::Friday),
    ("SAT", Weekday::Saturday),
    ("SUN", Weekday::Sunday),
];

/// A weekly time window bucket such as `SAT_MORNING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// The day.
    pub day: Weekday,
    /// The part of that day.
    pub part: DayPart,
}

impl TimeWindow {
    /// Parses `SAT_MORNING` (case-insensitive); `None` for anything else.
    pub fn parse(bucket: &str) -> Option<Self> {
        let upper = bucket.trim().to_ascii_uppercase();
        let (day, part) = upper.split_once('_')?;
        let day = DAYS.iter().find(|(name, _)| *name == day)?.1;
        let part = DayPart::ALL.into_iter().find(|p| p.label() == part)?;
        Some(Self { day, part })
    }

    /// The bucket's name, e.g. `SAT_MORNING`.
    pub fn label(self) -> String {
        let day = DAYS
            .iter()
            .find(|(_, d)| *d == self.day)
            .map_or("MON", |(n, _)| *n);
        format!("{day}_{}", self.part.label())
    }

    /// The profile window words this bucket matches: its part, plus `weekend` on Sat/Sun.
    pub fn tags(self) -> Vec<&'static str> {
        let mut tags = vec![self.part.tag()];
        if matches!(self.day, Weekday::Saturday | Weekday::Sunday) {
            tags.push("weekend");
        }
        tags
    }

    /// The same day's neighbouring parts (relaxation level 1).
    pub fn adjacent(self) -> Vec<Self> {
        let parts: &[DayPart] = match self.part {
            DayPart::Morning => &[DayPart::Afternoon],
            DayPart::Afternoon => &[DayPart::Morning, DayPart::Evening],
            DayPart::Evening => &[DayPart::Afternoon],
        };
        parts
            .iter()
            .map(|&part| Self {
                day: self.day,
                part,
            })
            .collect()
    }

    /// The next start of this bucket strictly after `now` in `tz`, and its end.
    pub fn next_occurrence(
        self,
        now: OffsetDateTime,
        tz: &str,
    ) -> (OffsetDateTime, OffsetDateTime) {
        let zone = zone(tz);
        let mut date = local_date(now, &zone);
        for _ in 0..8 {
            if date.weekday() == self.day {
                let (start_hour, end_hour) = self.part.hours();
                let start = at_local(date, start_hour, &zone);
                if start > now {
                    return (start, at_local(date, end_hour, &zone));
                }
            }
            date = date.tomorrow().unwrap_or(date);
        }
        (now, now)
    }
}

/// The IANA zone `name`, else the default zone.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name.trim())
        .or_else(|_| TimeZone::get(DEFAULT_TIMEZONE))
        .unwrap_or(TimeZone::UTC)
}

fn local_date(at: OffsetDateTime, zone: &TimeZone) -> Date {
    jiff::Timestamp::from_second(at.unix_timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone.clone())
        .date()
}

fn at_local(date: Date, hour: i8, zone: &TimeZone) -> OffsetDateTime {
    date.at(hour, 0, 0, 0)
        .to_zoned(zone.clone())
        .ok()
        .and_then(|z| OffsetDateTime::from_unix_timestamp(z.timestamp().as_second()).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// When the acceptance window broadcast at `broadcast` ends for a time window starting at
/// `starts`: 24 h, but no later than 3 h before the start; `None` when that leaves under 2 h.
pub fn acceptance_end(broadcast: OffsetDateTime, starts: OffsetDateTime) -> Option<OffsetDateTime> {
    let end = (broadcast + ACCEPTANCE).min(starts - LEAD);
    (end - broadcast >= MIN_ACCEPTANCE).then_some(end)
}

/// The first bucket after `window` (same part on later days first, then later parts) that
/// leaves a full minimum acceptance window from `now`.
pub fn later_suggestion(window: TimeWindow, now: OffsetDateTime, tz: &str) -> Option<TimeWindow> {
    let zone = zone(tz);
    let mut date = local_date(now, &zone);
    for _ in 0..8 {
        for part in DayPart::ALL {
            let (start_hour, _) = part.hours();
            let start = at_local(date, start_hour, &zone);
            if start > now && acceptance_end(now, start).is_some() && part == window.part {
                return Some(TimeWindow {
                    day: date.weekday(),
                    part,
                });
            }
        }
        date = date.tomorrow().ok()?;
    }
    None
}

/// When to remind a group that locked at `locked_at` of an event at `event_time`: 09:00 local
/// on the event day, or one hour after the lock when the lock came later. `true` = late lock.
pub fn reminder_time(
    event_time: OffsetDateTime,
    locked_at: OffsetDateTime,
    tz: &str,
) -> (OffsetDateTime, bool) {
    let zone = zone(tz);
    let nine = at_local(local_date(event_time, &zone), 9, &zone);
    if locked_at >= nine {
        (locked_at + Duration::hours(1), true)
    } else {
        (nine, false)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const LA: &str = "America/Los_Angeles";

    #[test]
    fn parses_buckets_and_round_trips_labels() {
        let w = TimeWindow::parse("sat_morning").unwrap();
        assert_eq!(w.day, Weekday::Saturday);
        assert_eq!(w.part, DayPart::Morning);
        assert_eq!(w.label(), "SAT_MORNING");
        assert_eq!(w.tags(), vec!["morning", "weekend"]);
        assert!(TimeWindow::parse("SAT").is_none());
        assert!(TimeWindow::parse("XYZ_MORNING").is_none());
    }

    #[test]
    fn next_occurrence_is_in_the_region_timezone() {
        // Thursday 2026-11-26 18:00 UTC = 10:00 PST.
        let now = datetime!(2026-11-26 18:00 UTC);
        let (start, end) = TimeWindow::parse("SAT_MORNING")
            .unwrap()
            .next_occurrence(now, LA);
        assert_eq!(start, datetime!(2026-11-28 17:00 UTC)); // Sat 09:00 PST
        assert_eq!(end, datetime!(2026-11-28 20:00 UTC));
        // Today's morning has begun: next week.
        let (start, _) = TimeWindow::parse("THU_MORNING")
            .unwrap()
            .next_occurrence(now, LA);
        assert_eq!(start, datetime!(2026-12-03 17:00 UTC));
    }

    #[test]
    fn acceptance_is_24h_or_ends_3h_before_the_start() {
        let now = datetime!(2026-11-26 18:00 UTC);
        let far = datetime!(2026-11-28 17:00 UTC);
        assert_eq!(acceptance_end(now, far), Some(now + Duration::hours(24)));
        let near = now + Duration::hours(10);
        assert_eq!(acceptance_end(now, near), Some(now + Duration::hours(7)));
        assert_eq!(acceptance_end(now, now + Duration::hours(4)), None);
        assert!(acceptance_end(now, now + Duration::hours(5)).is_some());
    }

    #[test]
    fn a_too_soon_request_gets_a_later_day() {
        // Thursday 07:00 PST asking for Thursday evening? 17:00 is 10 h away: fine. Ask at 13:00.
        let now = datetime!(2026-11-26 21:00 UTC); // 13:00 PST Thu
        let window = TimeWindow::parse("THU_EVENING").unwrap();
        let (start, _) = window.next_occurrence(now, LA);
        assert!(acceptance_end(now, start).is_none());
        let later = later_suggestion(window, now, LA).unwrap();
        assert_eq!(later.label(), "FRI_EVENING");
    }

    #[test]
    fn reminder_at_nine_local_or_an_hour_after_a_late_lock() {
        let event = datetime!(2026-11-28 17:00 UTC); // Sat 09:00 PST
        let (at, late) = reminder_time(event, datetime!(2026-11-27 20:00 UTC), LA);
        assert_eq!((at, late), (event, false));
        let evening = datetime!(2026-11-29 01:00 UTC); // Sat 17:00 PST
        let lock = datetime!(2026-11-28 19:00 UTC); // Sat 11:00 PST, after 09:00
        assert_eq!(
            reminder_time(evening, lock, LA),
            (lock + Duration::hours(1), true)
        );
    }
}
