//! Quiet hours: no non-urgent text between 21:00 and 08:00 in the recipient's region timezone;
//! such a text waits for 08:00 local (it is never dropped).

use time::OffsetDateTime;

/// The timezone used when neither the command nor the user's region names one.
pub const DEFAULT_TIMEZONE: &str = "America/New_York";

/// Local hour quiet hours start.
const QUIET_FROM_HOUR: i8 = 21;
/// Local hour quiet hours end.
const QUIET_UNTIL_HOUR: i8 = 8;

/// The IANA zone named `name`, else the default zone (an unknown name is logged once per call).
fn zone(name: Option<&str>) -> jiff::tz::TimeZone {
    let wanted = name.map(str::trim).filter(|n| !n.is_empty());
    if let Some(name) = wanted {
        match jiff::tz::TimeZone::get(name) {
            Ok(tz) => return tz,
            Err(_) => tracing::warn!(
                timezone = name,
                "unknown region timezone; using the default"
            ),
        }
    }
    jiff::tz::TimeZone::get(DEFAULT_TIMEZONE).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// When a non-urgent text meant for `at` may go out in timezone `timezone`: `at` itself outside
/// quiet hours, else the next 08:00 local.
pub fn earliest_send(at: OffsetDateTime, timezone: Option<&str>) -> OffsetDateTime {
    let tz = zone(timezone);
    let Ok(instant) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
        return at;
    };
    let local = instant.to_zoned(tz.clone());
    let date = if local.hour() >= QUIET_FROM_HOUR {
        local.date().tomorrow().ok()
    } else if local.hour() < QUIET_UNTIL_HOUR {
        Some(local.date())
    } else {
        None
    };
    let Some(date) = date else {
        return at;
    };
    date.at(QUIET_UNTIL_HOUR, 0, 0, 0)
        .to_zoned(tz)
        .ok()
        .and_then(|end| OffsetDateTime::from_unix_timestamp(end.timestamp().as_second()).ok())
        .map_or(at, |end| end.max(at))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn daytime_goes_now() {
        let noon_ny = datetime!(2026-11-22 17:00 UTC); // 12:00 EST
        assert_eq!(earliest_send(noon_ny, Some("America/New_York")), noon_ny);
    }

    #[test]
    fn late_evening_waits_for_eight_the_next_morning() {
        let at = datetime!(2026-11-23 03:30 UTC); // 22:30 EST on the 22nd
        assert_eq!(
            earliest_send(at, Some("America/New_York")),
            datetime!(2026-11-23 13:00 UTC) // 08:00 EST on the 23rd
        );
    }

    #[test]
    fn early_morning_waits_for_eight_the_same_day() {
        let at = datetime!(2026-11-22 13:00 UTC); // 05:00 PST
        assert_eq!(
            earliest_send(at, Some("America/Los_Angeles")),
            datetime!(2026-11-22 16:00 UTC)
        );
    }

    #[test]
    fn boundaries_and_unknown_zones() {
        // 21:00 sharp is quiet, 08:00 sharp is not.
        let nine_pm = datetime!(2026-11-23 02:00 UTC);
        assert_eq!(
            earliest_send(nine_pm, None),
            datetime!(2026-11-23 13:00 UTC)
        );
        let eight_am = datetime!(2026-11-22 13:00 UTC);
        assert_eq!(earliest_send(eight_am, Some("Mars/Olympus")), eight_am);
        // Daylight saving: 08:00 EDT is 12:00 UTC in July.
        let summer = datetime!(2026-07-01 03:00 UTC); // 23:00 EDT
        assert_eq!(
            earliest_send(summer, Some("America/New_York")),
            datetime!(2026-07-01 12:00 UTC)
        );
    }
}
