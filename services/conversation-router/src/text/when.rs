//! Time phrases in LinkUp requests ("sat morning", "tomorrow evening", "tonight", "this
//! weekend") → a day and a part of the day, resolved later against the region's calendar.
//! Pure and table-tested.

use time::Weekday;

use super::normalize::words;

/// A part of the day a LinkUp can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// 09:00–12:00.
    Morning,
    /// 12:00–17:00.
    Afternoon,
    /// 17:00–21:00.
    Evening,
}

impl Part {
    /// Every part, in order.
    pub const ALL: [Self; 3] = [Self::Morning, Self::Afternoon, Self::Evening];

    /// Upper-case bucket label, e.g. `MORNING`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Morning => "MORNING",
            Self::Afternoon => "AFTERNOON",
            Self::Evening => "EVENING",
        }
    }

    /// Local start and end hours.
    pub fn hours(self) -> (u8, u8) {
        match self {
            Self::Morning => (9, 12),
            Self::Afternoon => (12, 17),
            Self::Evening => (17, 21),
        }
    }

    /// The profile's time-preference word for this part.
    pub fn preference(self) -> &'static str {
        match self {
            Self::Morning => "morning",
            Self::Afternoon => "afternoon",
            Self::Evening => "evening",
        }
    }
}

/// Which day a phrase named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    /// Today ("today", "tonight").
    Today,
    /// Tomorrow.
    Tomorrow,
    /// The next such weekday.
    Weekday(Weekday),
    /// "this weekend": Saturday or Sunday, to be asked.
    Weekend,
}

/// What a text said about when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct When {
    /// The day, if named.
    pub day: Option<Day>,
    /// The part of the day, if named.
    pub part: Option<Part>,
}

const DAYS: [(&[&str], Weekday); 7] = [
    (&["mon", "monday"], Weekday::Monday),
    (&["tue", "tues", "tuesday"], Weekday::Tuesday),
    (&["wed", "weds", "wednesday"], Weekday::Wednesday),
    (&["thu", "thur", "thurs", "thursday"], Weekday::Thursday),
    (&["fri", "friday"], Weekday::Friday),
    (&["sat", "saturday"], Weekday::Saturday),
    (&["sun", "sunday"], Weekday::Sunday),
];

/// Reads the day and part of the day in `text`; either may be missing.
pub fn parse(text: &str) -> When {
    let normalised = words(text);
    let tokens: Vec<&str> = normalised.split(' ').collect();
    let mut when = When::default();
    for token in &tokens {
        let token = token.trim_end_matches('s');
        let day = match token {
            "today" => Some(Day::Today),
            "tonight" | "tonite" => {
                when.part = Some(Part::Evening);
                Some(Day::Today)
            }
            "tomorrow" | "tmrw" | "tmr" | "tomorow" => Some(Day::Tomorrow),
            "weekend" => Some(Day::Weekend),
            _ => DAYS
                .iter()
                .find(|(names, _)| {
                    names.contains(&token) || names.iter().any(|n| format!("{n}s") == *token)
                })
                .map(|(_, d)| Day::Weekday(*d)),
        };
        if when.day.is_none() {
            when.day = day;
        }
        let part = match token {
            "morning" | "am" | "breakfast" | "brunch" => Some(Part::Morning),
            "afternoon" | "lunch" | "noon" | "midday" => Some(Part::Afternoon),
            "evening" | "night" | "pm" | "dinner" | "after work" => Some(Part::Evening),
            _ => None,
        };
        if when.part.is_none() {
            when.part = part;
        }
    }
    when
}

/// The bucket label of a weekday and part, e.g. `SAT_MORNING`.
pub fn bucket(day: Weekday, part: Part) -> String {
    let d = match day {
        Weekday::Monday => "MON",
        Weekday::Tuesday => "TUE",
        Weekday::Wednesday => "WED",
        Weekday::Thursday => "THU",
        Weekday::Friday => "FRI",
        Weekday::Saturday => "SAT",
        Weekday::Sunday => "SUN",
    };
    format!("{d}_{}", part.label())
}

/// How people say a bucket: `SAT_MORNING` → "Sat morning"; unknown labels as they are.
pub fn describe_bucket(bucket: &str) -> String {
    let Some((day, part)) = bucket.split_once('_') else {
        return bucket.to_lowercase();
    };
    let mut day_chars = day.chars();
    let day = day_chars
        .next()
        .map(|c| c.to_string() + &day_chars.as_str().to_lowercase())
        .unwrap_or_default();
    format!("{day} {}", part.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_people_text() {
        let cases: &[(&str, Option<Day>, Option<Part>)] = &[
            (
                "coffee sat morning?",
                Some(Day::Weekday(Weekday::Saturday)),
                Some(Part::Morning),
            ),
            (
                "SATURDAY MORNING",
                Some(Day::Weekday(Weekday::Saturday)),
                Some(Part::Morning),
            ),
            ("tonight!", Some(Day::Today), Some(Part::Evening)),
            (
                "tomorrow afternoon",
                Some(Day::Tomorrow),
                Some(Part::Afternoon),
            ),
            ("sometime this weekend", Some(Day::Weekend), None),
            (
                "fridays after work",
                Some(Day::Weekday(Weekday::Friday)),
                None,
            ),
            ("in the evening", None, Some(Part::Evening)),
            ("coffee?", None, None),
            ("sundays", Some(Day::Weekday(Weekday::Sunday)), None),
        ];
        for (text, day, part) in cases {
            let when = parse(text);
            assert_eq!((when.day, when.part), (*day, *part), "{text:?}");
        }
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket(Weekday::Saturday, Part::Morning), "SAT_MORNING");
        assert_eq!(bucket(Weekday::Wednesday, Part::Evening), "WED_EVENING");
        assert_eq!(describe_bucket("SAT_MORNING"), "Sat morning");
    }
}
