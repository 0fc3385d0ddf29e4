//! The interview's step catalog (product-rules §3): what each step asks, how its answer is read
//! and what it writes. Pure: the caller loads the profile and the activity catalog, and stores
//! what comes back.

use super::profile::ProfileDoc;
use super::readers;
use crate::copy;
use crate::store::profiles::Activity;
use crate::text::answers;
use crate::text::normalize::{contains_phrase, words};

/// Confidence of a structured answer (product-rules §3: 0.60–0.80, capped at 0.75 a pass).
pub(super) const ANSWER_CONFIDENCE: f64 = 0.70;
/// Confidence of a factor derived from another answer.
pub(super) const DERIVED_CONFIDENCE: f64 = 0.60;
/// Confidence of an activity named in the interview.
pub const NAMED_CONFIDENCE: f64 = 0.65;
/// The numbered short list offered when an answer names too few activities (catalog keys, in
/// `copy::ACTIVITY_LIST` order).
pub const SHORT_LIST: [&str; 6] = ["coffee", "walk", "hike", "brunch", "board_games", "trivia"];

/// One interview step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 2–3 activities.
    Activity01,
    /// More activities from the short list, when fewer than 3 were named.
    ActivityMore,
    /// The top pick.
    Activity02,
    /// What they want from it.
    Motive01,
    /// Who they are in a group.
    Style01,
    /// What they like talking about.
    Style02,
    /// How fast friendships grow.
    Pace01,
    /// Ideal group size.
    Group01,
    /// How much shared values matter.
    Values01,
    /// Things they'd rather skip.
    Boundaries01,
    /// When they are free.
    Constraints01,
}

/// The steps in the order they are asked.
pub const ORDER: [Step; 11] = [
    Step::Activity01,
    Step::ActivityMore,
    Step::Activity02,
    Step::Motive01,
    Step::Style01,
    Step::Style02,
    Step::Pace01,
    Step::Group01,
    Step::Values01,
    Step::Boundaries01,
    Step::Constraints01,
];

/// What an answer did.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The profile changed; the named fields were written.
    Applied(Vec<&'static str>),
    /// A refusal ("skip"): nothing changes, the interview moves on.
    Refused,
    /// Not readable as an answer to this step: ask again.
    NotUnderstood,
}

impl Step {
    /// The step's name, e.g. `motive_01` (profiles.last_interview_step).
    pub fn name(self) -> &'static str {
        match self {
            Self::Activity01 => "activity_01",
            Self::ActivityMore => "activity_more",
            Self::Activity02 => "activity_02",
            Self::Motive01 => "motive_01",
            Self::Style01 => "style_01",
            Self::Style02 => "style_02",
            Self::Pace01 => "pace_01",
            Self::Group01 => "group_01",
            Self::Values01 => "values_01",
            Self::Boundaries01 => "boundaries_01",
            Self::Constraints01 => "constraints_01",
        }
    }

    /// The session state token, e.g. `interview:motive_01`.
    pub fn token(self) -> String {
        format!("interview:{}", self.name())
    }

    /// The step a state token points at.
    pub fn from_token(token: &str) -> Option<Self> {
        let name = token.strip_prefix("interview:")?;
        ORDER.into_iter().find(|s| s.name() == name)
    }

    /// Whether the profile already holds what this step asks (never re-ask a covered signal).
    pub fn covered(self, doc: &ProfileDoc) -> bool {
        match self {
            Self::Activity01 => !doc.activity_patterns.is_empty(),
            Self::ActivityMore => doc.activity_patterns.len() >= 3,
            Self::Activity02 => doc.preferences.contains_key("top_activity"),
            Self::Motive01 => doc.has_factor("connection_depth"),
            Self::Style01 => doc.has_factor("social_energy"),
            Self::Style02 => doc.has_factor("conversation_style"),
            Self::Pace01 => doc.has_factor("social_pace"),
            Self::Group01 => doc.preferences.contains_key("group_size_pref"),
            Self::Values01 => doc.has_factor("values_alignment_importance"),
            Self::Boundaries01 => doc.boundaries_asked(),
            Self::Constraints01 => doc.preferences.contains_key("time_preferences"),
        }
    }

    /// The question this step sends.
    pub fn question(self, doc: &ProfileDoc, catalog: &[Activity]) -> String {
        match self {
            Self::Activity01 => copy::ASK_ACTIVITIES.to_owned(),
            Self::ActivityMore => copy::ASK_MORE_ACTIVITIES.to_owned(),
            Self::Activity02 => copy::ask_top_pick(&display_names(&doc.activity_keys(), catalog)),
            Self::Motive01 => copy::ASK_MOTIVE.to_owned(),
            Self::Style01 => copy::ASK_STYLE.to_owned(),
            Self::Style02 => copy::ASK_TOPICS.to_owned(),
            Self::Pace01 => copy::ASK_PACE.to_owned(),
            Self::Group01 => copy::ASK_GROUP.to_owned(),
            Self::Values01 => copy::ASK_VALUES.to_owned(),
            Self::Boundaries01 => copy::ASK_BOUNDARIES.to_owned(),
            Self::Constraints01 => copy::ASK_TIMES.to_owned(),
        }
    }

    /// Reads `text` as this step's answer and writes it into `doc`.
    pub fn apply(self, doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
        if answers::is_refusal(text) && self != Self::Boundaries01 {
            return Answer::Refused;
        }
        match self {
            Self::Activity01 | Self::ActivityMore => readers::activities(doc, text, catalog),
            Self::Activity02 => readers::top_pick(doc, text, catalog),
            Self::Motive01 => readers::motives(doc, text),
            Self::Style01 => readers::style(doc, text),
            Self::Style02 => readers::topics(doc, text),
            Self::Pace01 => readers::pace(doc, text),
            Self::Group01 => readers::group(doc, text),
            Self::Values01 => readers::values(doc, text),
            Self::Boundaries01 => readers::boundaries(doc, text, catalog),
            Self::Constraints01 => readers::times(doc, text),
        }
    }
}

/// Catalog display names of `keys` (the key itself when unknown).
pub fn display_names(keys: &[String], catalog: &[Activity]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            catalog
                .iter()
                .find(|a| a.key == *k)
                .map_or_else(|| k.clone(), |a| a.display_name.clone())
        })
        .collect()
}

/// The catalog activities named in `text` by alias (whole words), in catalog order, or the
/// numbered short list's picks ("1, 3").
pub fn recognise<'a>(catalog: &'a [Activity], text: &str) -> Vec<&'a Activity> {
    let normalised = words(text);
    let by_alias: Vec<&Activity> = catalog
        .iter()
        .filter(|a| {
            a.aliases
                .iter()
                .chain(std::iter::once(&a.key))
                .any(|alias| contains_phrase(&normalised, &words(&alias.replace('_', " "))))
        })
        .collect();
    if !by_alias.is_empty() {
        return by_alias;
    }
    answers::choices(text, SHORT_LIST.len(), 3)
        .map(|picks| {
            picks
                .iter()
                .filter_map(|&i| catalog.iter().find(|a| a.key == SHORT_LIST[i]))
                .collect()
        })
        .unwrap_or_default()
}
