//! How each interview step reads its answer and what it writes into the profile
//! (product-rules §3 table). Pure functions over [`ProfileDoc`].

use serde_json::{Map, Value, json};

use super::profile::ProfileDoc;
use super::steps::{ANSWER_CONFIDENCE, Answer, DERIVED_CONFIDENCE, NAMED_CONFIDENCE, recognise};
use crate::store::profiles::Activity;
use crate::text::answers;
use crate::text::normalize::{contains_phrase, words};

pub(super) fn activities(doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
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

pub(super) fn top_pick(doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
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
pub(super) fn motives(doc: &mut ProfileDoc, text: &str) -> Answer {
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

pub(super) fn style(doc: &mut ProfileDoc, text: &str) -> Answer {
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

pub(super) fn topics(doc: &mut ProfileDoc, text: &str) -> Answer {
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

pub(super) fn pace(doc: &mut ProfileDoc, text: &str) -> Answer {
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

pub(super) fn group(doc: &mut ProfileDoc, text: &str) -> Answer {
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

pub(super) fn values(doc: &mut ProfileDoc, text: &str) -> Answer {
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

pub(super) fn boundaries(doc: &mut ProfileDoc, text: &str, catalog: &[Activity]) -> Answer {
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

pub(super) fn recognise_by_alias(catalog: &[Activity], text: &str) -> Vec<String> {
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

pub(super) fn times(doc: &mut ProfileDoc, text: &str) -> Answer {
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
