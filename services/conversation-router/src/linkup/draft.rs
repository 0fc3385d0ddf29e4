//! A LinkUp request being put together over a few texts. It lives in the session's state token
//! (`linkup:` + compact JSON), so the dialog survives restarts and needs no table.

use serde::{Deserialize, Serialize};
use time::Weekday;

use crate::text::when::{Day, Part, When};

/// Token prefix of the LinkUp dialog.
pub const TOKEN_PREFIX: &str = "linkup:";

/// What the dialog asked last, so the next text is read as its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ask {
    /// Which activity.
    Activity,
    /// Which day (and maybe part).
    When,
    /// Which part of the day.
    Part,
    /// Saturday or Sunday.
    WeekendDay,
    /// How many people.
    Size,
    /// A later window was suggested: YES takes it, another time replaces it.
    Confirm,
}

/// The request so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Catalog key.
    #[serde(rename = "a", skip_serializing_if = "Option::is_none", default)]
    pub activity: Option<String>,
    /// 0 = today, 1 = tomorrow, 2..=8 = Monday..Sunday, 9 = weekend.
    #[serde(rename = "d", skip_serializing_if = "Option::is_none", default)]
    day: Option<u8>,
    /// 0 = morning, 1 = afternoon, 2 = evening.
    #[serde(rename = "p", skip_serializing_if = "Option::is_none", default)]
    part: Option<u8>,
    /// Group size including the initiator.
    #[serde(rename = "s", skip_serializing_if = "Option::is_none", default)]
    pub size: Option<(u32, u32)>,
    /// Whether to ask the group size (the LINKUP command does; a free-text request uses the
    /// person's preference).
    #[serde(rename = "q", default)]
    pub ask_size: bool,
    /// What was asked last.
    #[serde(rename = "k", skip_serializing_if = "Option::is_none", default)]
    pub asked: Option<Ask>,
}

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

impl Draft {
    /// The LINKUP command's draft: everything asked, group size included.
    pub fn command() -> Self {
        Self {
            ask_size: true,
            ..Self::default()
        }
    }

    /// A free-text request's draft for `activity` (maybe unknown yet).
    pub fn for_activity(activity: Option<String>) -> Self {
        Self {
            activity,
            ..Self::default()
        }
    }

    /// The draft in a state token.
    pub fn token(&self) -> String {
        format!(
            "{TOKEN_PREFIX}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    /// The draft a state token holds.
    pub fn from_token(token: &str) -> Option<Self> {
        serde_json::from_str(token.strip_prefix(TOKEN_PREFIX)?).ok()
    }

    /// Fills what `when` names and the draft lacks.
    pub fn merge_when(&mut self, when: When) {
        if let Some(day) = when.day {
            let replace = self.day.is_none() || self.day() == Some(Day::Weekend);
            if replace {
                self.day = Some(match day {
                    Day::Today => 0,
                    Day::Tomorrow => 1,
                    Day::Weekday(w) => 2 + w.number_days_from_monday(),
                    Day::Weekend => 9,
                });
            }
        }
        if let (None, Some(part)) = (self.part, when.part) {
            self.part = Part::ALL
                .iter()
                .position(|p| *p == part)
                .and_then(|i| u8::try_from(i).ok());
        }
    }

    /// Forgets the day and part (a new time replaces a suggestion).
    pub fn clear_when(&mut self) {
        self.day = None;
        self.part = None;
    }

    /// Sets the day and part to a concrete weekday and part (a suggestion).
    pub fn set_when(&mut self, weekday: Weekday, part: Part) {
        self.clear_when();
        self.merge_when(When {
            day: Some(Day::Weekday(weekday)),
            part: Some(part),
        });
    }

    /// The day named so far.
    pub fn day(&self) -> Option<Day> {
        Some(match self.day? {
            0 => Day::Today,
            1 => Day::Tomorrow,
            9 => Day::Weekend,
            n => Day::Weekday(*WEEKDAYS.get(usize::from(n).checked_sub(2)?)?),
        })
    }

    /// The part of the day named so far.
    pub fn part(&self) -> Option<Part> {
        Part::ALL.get(usize::from(self.part?)).copied()
    }

    /// What is still missing, in asking order; `None` when the request is complete.
    pub fn missing(&self) -> Option<Ask> {
        if self.activity.is_none() {
            Some(Ask::Activity)
        } else if self.day.is_none() && self.part.is_none() {
            Some(Ask::When)
        } else if self.day() == Some(Day::Weekend) {
            Some(Ask::WeekendDay)
        } else if self.day.is_none() {
            Some(Ask::When)
        } else if self.part.is_none() {
            Some(Ask::Part)
        } else if self.ask_size && self.size.is_none() {
            Some(Ask::Size)
        } else {
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::text::when;

    #[test]
    fn a_draft_survives_its_token() {
        let mut d = Draft::command();
        d.activity = Some("coffee".into());
        d.merge_when(when::parse("sat morning"));
        d.asked = Some(Ask::Size);
        let back = Draft::from_token(&d.token()).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.day(), Some(Day::Weekday(Weekday::Saturday)));
        assert_eq!(back.part(), Some(Part::Morning));
        assert_eq!(back.missing(), Some(Ask::Size));
    }

    #[test]
    fn what_is_missing_comes_in_order() {
        let mut d = Draft::default();
        assert_eq!(d.missing(), Some(Ask::Activity));
        d.activity = Some("walk".into());
        assert_eq!(d.missing(), Some(Ask::When));
        d.merge_when(when::parse("this weekend"));
        assert_eq!(d.missing(), Some(Ask::WeekendDay));
        d.merge_when(when::parse("sunday"));
        assert_eq!(d.missing(), Some(Ask::Part));
        d.merge_when(when::parse("afternoon"));
        assert_eq!(d.missing(), None);
    }
}
