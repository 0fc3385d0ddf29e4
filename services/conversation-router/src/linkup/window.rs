//! A day and part of the day, resolved against the region's calendar into a concrete time
//! window. Pure: the caller passes the clock's now and the region's time zone.

use time::{Duration, OffsetDateTime, Weekday};

use crate::text::when::{self, Day, Part};

/// The acceptance window ends 3 h before the LinkUp and must stay open at least 2 h
/// (product-rules §4), so a window must start at least this long from now.
pub const MIN_LEAD: Duration = Duration::hours(5);
/// Time zone used when a region has none recorded.
pub const DEFAULT_TIMEZONE: &str = "America/Los_Angeles";

/// A concrete LinkUp time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Bucket label, e.g. `SAT_MORNING`.
    pub bucket: String,
    /// Local calendar date, e.g. `2026-11-28` (the create key's day bucket).
    pub local_date: String,
    /// Start, UTC.
    pub starts_at: OffsetDateTime,
    /// End, UTC.
    pub ends_at: OffsetDateTime,
    /// Day and part, for wording.
    pub weekday: Weekday,
    /// Part of the day.
    pub part: Part,
}

impl Window {
    /// Whether it starts too soon to gather a group.
    pub fn too_soon(&self, now: OffsetDateTime) -> bool {
        self.starts_at - now < MIN_LEAD
    }

    /// How people say it: "Sat morning".
    pub fn describe(&self) -> String {
        let day = &format!("{}", self.weekday)[..3];
        format!("{day} {}", self.part.preference())
    }
}

/// The next window for `day` (not `Day::Weekend`, which must be asked first) and `part` in
/// time zone `tz`, as seen at `now`: today counts while the part has not begun.
pub fn resolve(day: Day, part: Part, now: OffsetDateTime, tz: &str) -> Option<Window> {
    let zone = jiff::tz::TimeZone::get(tz)
        .or_else(|_| jiff::tz::TimeZone::get(DEFAULT_TIMEZONE))
        .ok()?;
    let instant = jiff::Timestamp::from_second(now.unix_timestamp()).ok()?;
    let today = instant.to_zoned(zone.clone()).date();
    let offset_days = match day {
        Day::Today => 0,
        Day::Tomorrow => 1,
        Day::Weekday(w) => {
            let from = i64::from(today.weekday().to_monday_zero_offset());
            let to = i64::from(w.number_days_from_monday());
            (to - from).rem_euclid(7)
        }
        Day::Weekend => return None,
    };
    let (start_hour, end_hour) = part.hours();
    let begun = today
        .at(i8::try_from(start_hour).ok()?, 0, 0, 0)
        .to_zoned(zone.clone())
        .ok()?
        .timestamp()
        <= instant;
    // A weekday named on that very day means next week's once the part has begun.
    let offset_days = if offset_days == 0 && begun && matches!(day, Day::Weekday(_)) {
        7
    } else {
        offset_days
    };
    let date = today
        .checked_add(jiff::Span::new().days(offset_days))
        .ok()?;
    let at = |hour: u8| -> Option<OffsetDateTime> {
        let zoned = date
            .at(i8::try_from(hour).ok()?, 0, 0, 0)
            .to_zoned(zone.clone())
            .ok()?;
        OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second()).ok()
    };
    let starts_at = at(start_hour)?;
    let weekday = starts_at.to_offset(offset_of(&zone, starts_at)?).weekday();
    Some(Window {
        bucket: when::bucket(weekday, part),
        local_date: date.to_string(),
        starts_at,
        ends_at: at(end_hour)?,
        weekday,
        part,
    })
}

fn offset_of(zone: &jiff::tz::TimeZone, at: OffsetDateTime) -> Option<time::UtcOffset> {
    let ts = jiff::Timestamp::from_second(at.unix_timestamp()).ok()?;
    time::UtcOffset::from_whole_seconds(zone.to_offset(ts).seconds()).ok()
}

/// A later window to suggest when `window` is too soon: the next part today, else tomorrow
/// morning.
pub fn later(window: &Window, now: OffsetDateTime, tz: &str) -> Option<Window> {
    Part::ALL
        .iter()
        .filter(|p| p.hours().0 > window.part.hours().0)
        .filter_map(|p| resolve(Day::Weekday(window.weekday), *p, now, tz))
        .chain(resolve(
            Day::Weekday(window.weekday.next()),
            Part::Morning,
            now,
            tz,
        ))
        .find(|w| !w.too_soon(now))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const TZ: &str = "America/Los_Angeles";

    #[test]
    fn saturday_morning_from_a_wednesday_evening_in_san_francisco() {
        // Wed 2026-11-25 18:00 PST = 2026-11-26 02:00 UTC
        let now = datetime!(2026-11-26 02:00 UTC);
        let w = resolve(Day::Weekday(Weekday::Saturday), Part::Morning, now, TZ).unwrap();
        assert_eq!(w.bucket, "SAT_MORNING");
        assert_eq!(w.local_date, "2026-11-28");
        assert_eq!(w.starts_at, datetime!(2026-11-28 17:00 UTC));
        assert_eq!(w.ends_at, datetime!(2026-11-28 20:00 UTC));
        assert!(!w.too_soon(now));
        assert_eq!(w.describe(), "Sat morning");
    }

    #[test]
    fn tonight_late_in_the_day_is_too_soon_and_a_later_window_is_offered() {
        // Sat 2026-11-28 14:00 PST
        let now = datetime!(2026-11-28 22:00 UTC);
        let w = resolve(Day::Today, Part::Evening, now, TZ).unwrap();
        assert_eq!(w.bucket, "SAT_EVENING");
        assert!(w.too_soon(now));
        let later = later(&w, now, TZ).unwrap();
        assert_eq!(later.bucket, "SUN_MORNING");
        assert!(!later.too_soon(now));
    }

    #[test]
    fn the_same_weekday_today_counts_and_tomorrow_crosses_the_date_line() {
        // Sat 2026-11-28 06:00 PST
        let now = datetime!(2026-11-28 14:00 UTC);
        let w = resolve(Day::Weekday(Weekday::Saturday), Part::Evening, now, TZ).unwrap();
        assert_eq!(w.local_date, "2026-11-28");
        let t = resolve(Day::Tomorrow, Part::Morning, now, TZ).unwrap();
        assert_eq!(t.bucket, "SUN_MORNING");
        // Saturday morning named at 10:00 on a Saturday: next week's.
        let later = datetime!(2026-11-28 18:00 UTC);
        let w = resolve(Day::Weekday(Weekday::Saturday), Part::Morning, later, TZ).unwrap();
        assert_eq!(w.local_date, "2026-12-05");
    }
}
