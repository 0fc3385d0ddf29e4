//! The interview's step catalog (product-rules §3): what each step asks, how its answer is read
//! and what it writes. Pure: the caller loads the profile and the activity catalog, and stores
//! what comes back.

use serde_json::{Map, Value, json};

use super::profile::ProfileDoc;
use crate::copy;
use crate::store::profiles::Activity;
use crate::text::answers;
use crate::text::normalize::{contains_phrase, words};

/// Confidence of a structured answer (product-rules §3: 0.60–0.80, capped at 0.75 a pass).
const ANSWER_CONFIDENCE: f64 = 0.70;
/// Confidence of a factor derived from another answer.
const DERIVED_CONFIDENCE: f64 = 0.60;
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
            Self::Activity01 | Self::ActivityMore => activities(doc, text, catalog),
            Self::Activity02 => top_pick(doc, text, catalog),
            Self::Motive01 => motives(doc, text),
            Self::Style01 => style(doc, text),
            Self::Style02 => topics(doc, text),
            Self::Pace01 => pace(doc, text),
            Self::Group01 => group(doc, text),
            Self::Values01 => values(doc, text),
            Self::Boundaries01 => boundaries(doc, text, catalog),
            Self::Constraints01 => times(doc, text),
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

fn activities(doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
    let named = recognise(catalog, text);
    if named.is_empty() {
        return Answer::NotUnderstood;
    }
    let keys: Vec<(String, Vec<String>)> = named
        .iter()
        .map(|a| (a.key.clone(), a.typical_windows.clone()))
        .collect();
    doc.add_activities(&keys, NAMED_CONFIDENCE);
    Answer::Applied(vec!["activity_patterns"])
}

fn top_pick(doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
    let keys = doc.activity_keys();
    let pick = answers::choice(text, keys.len()).or_else(|| {
        // They may name it instead of numbering it.
        recognise(catalog, text)
            .first()
            .and_then(|a| keys.iter().position(|k| *k == a.key))
    });
    let Some(index) = pick else {
        return Answer::NotUnderstood;
    };
    doc.preferences
        .insert("top_activity".into(), json!(keys[index]));
    Answer::Applied(vec!["active_intent", "preferences"])
}

/// A–D: deep talk → connection, laughs → play, recharge → restorative (+comfort), something new
/// → adventure (+growth). One or two picks.
fn motives(doc: &mut ProfileDoc, text: &str) -> Answer {
    let Ok(picks) = answers::choices(text, 4, 2) else {
        return Answer::NotUnderstood;
    };
    if picks.is_empty() {
        return Answer::NotUnderstood;
    }
    let chosen: [&[&str]; 4] = [
        &["connection"],
        &["play"],
        &["restorative", "comfort"],
        &["adventure", "growth"],
    ];
    let mut weights = Map::new();
    for motive in [
        "connection",
        "comfort",
        "growth",
        "play",
        "restorative",
        "adventure",
    ] {
        let picked = picks.iter().any(|&i| chosen[i].contains(&motive));
        weights.insert(motive.into(), json!(if picked { 0.8 } else { 0.3 }));
    }
    let w = |m: &str| weights[m].as_f64().unwrap_or(0.3);
    doc.set_factor(
        "connection_depth",
        w("connection"),
        ANSWER_CONFIDENCE,
        "interview",
    );
    doc.set_factor(
        "adventure_comfort",
        w("adventure"),
        ANSWER_CONFIDENCE,
        "interview",
    );
    let novelty = w("adventure").max(0.85 * w("play"));
    doc.set_factor("novelty_seeking", novelty, DERIVED_CONFIDENCE, "interview");
    let directness = w("connection")
        .max(0.75 * w("restorative"))
        .max(0.65 * w("comfort"));
    doc.set_factor(
        "emotional_directness",
        directness,
        DERIVED_CONFIDENCE,
        "interview",
    );
    doc.set_motive_weights(&weights);
    doc.preferences
        .insert("motives".into(), Value::Object(weights));
    Answer::Applied(vec!["fingerprint", "activity_patterns", "preferences"])
}

fn style(doc: &mut ProfileDoc, text: &str) -> Answer {
    let Some(i) = answers::choice(text, 4) else {
        return Answer::NotUnderstood;
    };
    // curious, funny, thoughtful, energetic
    let energy = [0.60, 0.72, 0.52, 0.84][i];
    let humor = [0.5, 0.85, 0.35, 0.7][i];
    doc.set_factor("social_energy", energy, ANSWER_CONFIDENCE, "interview");
    doc.set_factor("humor_style", humor, DERIVED_CONFIDENCE, "interview");
    Answer::Applied(vec!["fingerprint"])
}

fn topics(doc: &mut ProfileDoc, text: &str) -> Answer {
    const TOPICS: [&str; 4] = ["ideas", "feelings", "stories", "plans"];
    let picks = answers::choices(text, 4, 2)
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| {
            let w = words(text);
            let named: Vec<usize> = (0..4).filter(|&i| w.contains(TOPICS[i])).collect();
            (!named.is_empty() && named.len() <= 2).then_some(named)
        });
    let Some(picks) = picks else {
        return Answer::NotUnderstood;
    };
    // An axis from abstract (ideas) to practical (plans); the labels are kept for matching.
    let axis = [0.2, 0.4, 0.6, 0.8];
    #[allow(clippy::cast_precision_loss)]
    let value = picks.iter().map(|&i| axis[i]).sum::<f64>() / picks.len() as f64;
    doc.set_factor("conversation_style", value, ANSWER_CONFIDENCE, "interview");
    let labels: Vec<&str> = picks.iter().map(|&i| TOPICS[i]).collect();
    doc.preferences
        .insert("conversation_topics".into(), json!(labels));
    Answer::Applied(vec!["fingerprint", "preferences"])
}

fn pace(doc: &mut ProfileDoc, text: &str) -> Answer {
    let Some(i) = answers::choice(text, 3) else {
        return Answer::NotUnderstood;
    };
    doc.set_factor(
        "social_pace",
        [0.25, 0.5, 0.8][i],
        ANSWER_CONFIDENCE,
        "interview",
    );
    // slow → planned, medium → balanced, fast → spontaneous
    doc.set_factor(
        "structure_preference",
        [0.8, 0.5, 0.2][i],
        DERIVED_CONFIDENCE,
        "interview",
    );
    Answer::Applied(vec!["fingerprint"])
}

fn group(doc: &mut ProfileDoc, text: &str) -> Answer {
    let Some(i) = answers::choice(text, 3) else {
        return Answer::NotUnderstood;
    };
    let (min, max) = [(2, 3), (4, 6), (7, 10)][i];
    doc.preferences
        .insert("group_size_pref".into(), json!({ "min": min, "max": max }));
    doc.set_factor(
        "group_vs_1on1_preference",
        [0.25, 0.6, 0.85][i],
        ANSWER_CONFIDENCE,
        "interview",
    );
    Answer::Applied(vec!["fingerprint", "preferences"])
}

fn values(doc: &mut ProfileDoc, text: &str) -> Answer {
    let Some(i) = answers::choice(text, 3) else {
        return Answer::NotUnderstood;
    };
    let value = [0.85, 0.55, 0.25][i];
    doc.set_factor(
        "values_alignment_importance",
        value,
        ANSWER_CONFIDENCE,
        "interview",
    );
    Answer::Applied(vec!["fingerprint"])
}

/// Generic things people skip, beyond catalog activities.
const AVOIDABLE: [(&str, &str); 6] = [
    ("bar", "bars"),
    ("bars", "bars"),
    ("late", "late_night"),
    ("loud", "loud_places"),
    ("crowds", "crowds"),
    ("alcohol", "alcohol"),
];

fn boundaries(doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
    let w = words(text);
    let none = answers::is_refusal(text)
        || matches!(
            w.as_str(),
            "none" | "nothing" | "no" | "nope" | "nah" | "all good"
        );
    let mut skip: Vec<String> = Vec::new();
    if !none {
        skip.extend(recognise_by_alias(catalog, text));
        for (word, key) in AVOIDABLE {
            if w.split(' ').any(|t| t == word) && !skip.iter().any(|s| s == key) {
                skip.push(key.to_owned());
            }
        }
        if skip.is_empty() {
            // Free text we cannot map is kept as said, so nothing they asked to skip is lost.
            skip.push(w.chars().take(60).collect());
        }
    }
    let tolerance = if none {
        0.5
    } else {
        #[allow(clippy::cast_precision_loss)]
        let n = skip.len().min(4) as f64;
        (1.0 - 0.15 * n).max(0.3)
    };
    doc.set_factor(
        "conflict_tolerance",
        tolerance,
        DERIVED_CONFIDENCE,
        "interview",
    );
    doc.boundaries.insert("no_thanks".into(), json!(skip));
    doc.boundaries
        .entry("hard_constraints")
        .or_insert_with(|| json!({}));
    doc.boundaries.insert("asked".into(), json!(true));
    Answer::Applied(vec!["fingerprint", "boundaries"])
}

fn recognise_by_alias(catalog: &[Activity], text: &str) -> Vec<String> {
    let normalised = words(text);
    catalog
        .iter()
        .filter(|a| {
            a.aliases
                .iter()
                .any(|al| contains_phrase(&normalised, &words(al)))
        })
        .map(|a| a.key.clone())
        .collect()
}

fn times(doc: &mut ProfileDoc, text: &str) -> Answer {
    const BUCKETS: [&str; 4] = ["morning", "afternoon", "evening", "weekend"];
    let picks = answers::choices(text, 4, 2)
        .ok()
        .filter(|p| !p.is_empty())
        .or_else(|| {
            let w = words(text);
            let named: Vec<usize> = (0..4)
                .filter(|&i| w.split(' ').any(|t| t.trim_end_matches('s') == BUCKETS[i]))
                .collect();
            (!named.is_empty() && named.len() <= 2).then_some(named)
        });
    let Some(picks) = picks else {
        return Answer::NotUnderstood;
    };
    let windows: Vec<&str> = picks.iter().map(|&i| BUCKETS[i]).collect();
    doc.preferences
        .insert("time_preferences".into(), json!(windows));
    doc.set_preferred_windows(&windows);
    Answer::Applied(vec!["preferences", "activity_patterns"])
}
