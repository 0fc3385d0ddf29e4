//! The profile the interview fills, as plain data: the Friend Fingerprint's 12 factors, activity
//! patterns, boundaries and preferences, in the JSON shapes of the schema document. Pure
//! functions: the confidence and movement caps of product-rules §3 and the completeness
//! thresholds live here, with no database in sight.

use serde_json::{Map, Value, json};

/// The 12 Friend Fingerprint factors.
pub const FACTORS: [&str; 12] = [
    "connection_depth",
    "social_energy",
    "social_pace",
    "novelty_seeking",
    "structure_preference",
    "humor_style",
    "conversation_style",
    "emotional_directness",
    "adventure_comfort",
    "conflict_tolerance",
    "values_alignment_importance",
    "group_vs_1on1_preference",
];

/// One pass never moves a factor's value by more than this.
const MAX_MOVE: f64 = 0.25;
/// One pass never lifts confidence above this.
const MAX_CONFIDENCE: f64 = 0.75;

/// A profile's JSON documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileDoc {
    /// `profiles.fingerprint`: factor name → `{range_value, confidence, freshness_days, sources}`.
    pub fingerprint: Map<String, Value>,
    /// `profiles.activity_patterns`.
    pub activity_patterns: Vec<Value>,
    /// `profiles.boundaries`: `{no_thanks: [...], hard_constraints: {...}, asked: bool}`.
    pub boundaries: Map<String, Value>,
    /// `profiles.preferences`: `{group_size_pref: {min, max}, time_preferences: [...]}`.
    pub preferences: Map<String, Value>,
}

/// How complete a profile is (`profile_state` labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Completeness {
    /// Nothing answered.
    Empty,
    /// Some answers.
    Partial,
    /// Enough to match (product-rules §3).
    CompleteMvp,
    /// Everything asked, with confidence.
    CompleteFull,
}

impl Completeness {
    /// The `profile_state` label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Partial => "partial",
            Self::CompleteMvp => "complete_mvp",
            Self::CompleteFull => "complete_full",
        }
    }
}

impl ProfileDoc {
    /// Sets `factor` from an interview answer: a new factor takes the answer; a known one moves
    /// toward it by at most 0.25, and confidence never passes 0.75 in one pass.
    pub fn set_factor(&mut self, factor: &str, value: f64, confidence: f64, source: &str) {
        let value = value.clamp(0.0, 1.0);
        let (value, confidence) = match self.factor(factor) {
            Some((old, old_confidence)) => (
                old + (value - old).clamp(-MAX_MOVE, MAX_MOVE),
                old_confidence.max(confidence).min(MAX_CONFIDENCE),
            ),
            None => (value, confidence.min(MAX_CONFIDENCE)),
        };
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        self.fingerprint.insert(
            factor.to_owned(),
            json!({
                "range_value": round(value),
                "confidence": round(confidence),
                "freshness_days": 0,
                "sources": { source: 1.0 },
            }),
        );
    }

    /// A factor's `(range_value, confidence)`, if set.
    pub fn factor(&self, factor: &str) -> Option<(f64, f64)> {
        let f = self.fingerprint.get(factor)?;
        Some((f["range_value"].as_f64()?, f["confidence"].as_f64()?))
    }

    /// Whether `factor` is known.
    pub fn has_factor(&self, factor: &str) -> bool {
        self.factor(factor).is_some()
    }

    /// Catalog keys of the activity patterns, in order.
    pub fn activity_keys(&self) -> Vec<String> {
        self.activity_patterns
            .iter()
            .filter_map(|p| p["activity_key"].as_str().map(str::to_owned))
            .collect()
    }

    /// Adds activity patterns for `keys` not yet known, each with `windows` and `confidence`.
    pub fn add_activities(&mut self, keys: &[(String, Vec<String>)], confidence: f64) {
        let known = self.activity_keys();
        for (key, windows) in keys.iter().filter(|(k, _)| !known.contains(k)) {
            self.activity_patterns.push(json!({
                "activity_key": key, "motive_weights": {}, "constraints": {},
                "preferred_windows": windows, "confidence": confidence, "freshness_days": 0,
            }));
        }
    }

    /// Sets the motive weights of every activity pattern.
    pub fn set_motive_weights(&mut self, weights: &Map<String, Value>) {
        for pattern in &mut self.activity_patterns {
            pattern["motive_weights"] = Value::Object(weights.clone());
        }
    }

    /// Sets the preferred windows of every activity pattern.
    pub fn set_preferred_windows(&mut self, windows: &[&str]) {
        for pattern in &mut self.activity_patterns {
            pattern["preferred_windows"] = json!(windows);
        }
    }

    /// Whether the boundaries question was asked (answered or skipped).
    pub fn boundaries_asked(&self) -> bool {
        self.boundaries.get("asked") == Some(&Value::Bool(true))
    }

    /// Completeness by the thresholds of product-rules §3.
    pub fn completeness(&self) -> Completeness {
        let confident = |min: f64| {
            FACTORS
                .iter()
                .filter(|f| self.factor(f).is_some_and(|(_, c)| c >= min))
                .count()
        };
        let activities = |min: f64| {
            self.activity_patterns
                .iter()
                .filter(|p| p["confidence"].as_f64().is_some_and(|c| c >= min))
                .count()
        };
        let group_size = self.preferences.contains_key("group_size_pref");
        let time_bucket = self
            .preferences
            .get("time_preferences")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let mvp = confident(0.55) >= 8 && activities(0.60) >= 3 && group_size && time_bucket;
        if mvp
            && confident(0.65) == FACTORS.len()
            && activities(0.0) >= 5
            && self.boundaries_asked()
        {
            Completeness::CompleteFull
        } else if mvp {
            Completeness::CompleteMvp
        } else if self.fingerprint.is_empty() && self.activity_patterns.is_empty() {
            Completeness::Empty
        } else {
            Completeness::Partial
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_known_factor_moves_at_most_a_quarter_and_confidence_stays_capped() {
        let mut doc = ProfileDoc::default();
        doc.set_factor("social_pace", 0.2, 0.9, "interview");
        assert_eq!(doc.factor("social_pace"), Some((0.2, 0.75)));
        doc.set_factor("social_pace", 1.0, 0.7, "interview");
        assert_eq!(doc.factor("social_pace"), Some((0.45, 0.75)));
    }

    #[test]
    fn completeness_follows_the_thresholds() {
        let mut doc = ProfileDoc::default();
        assert_eq!(doc.completeness(), Completeness::Empty);
        let windows = vec!["morning".to_owned()];
        let acts: Vec<(String, Vec<String>)> = ["coffee", "walk", "hike"]
            .iter()
            .map(|k| ((*k).to_owned(), windows.clone()))
            .collect();
        doc.add_activities(&acts, 0.65);
        assert_eq!(doc.completeness(), Completeness::Partial);
        for f in &FACTORS[..8] {
            doc.set_factor(f, 0.5, 0.6, "interview");
        }
        doc.preferences
            .insert("group_size_pref".into(), json!({"min": 2, "max": 3}));
        assert_eq!(
            doc.completeness(),
            Completeness::Partial,
            "no time bucket yet"
        );
        doc.preferences
            .insert("time_preferences".into(), json!(["morning"]));
        assert_eq!(doc.completeness(), Completeness::CompleteMvp);
        for f in FACTORS {
            doc.set_factor(f, 0.5, 0.7, "interview");
        }
        let more: Vec<(String, Vec<String>)> = ["brunch", "trivia"]
            .iter()
            .map(|k| ((*k).to_owned(), windows.clone()))
            .collect();
        doc.add_activities(&more, 0.65);
        assert_eq!(
            doc.completeness(),
            Completeness::CompleteMvp,
            "boundaries not asked"
        );
        doc.boundaries.insert("asked".into(), json!(true));
        assert_eq!(doc.completeness(), Completeness::CompleteFull);
    }

    #[test]
    fn adding_a_known_activity_again_keeps_one_pattern() {
        let mut doc = ProfileDoc::default();
        let coffee = vec![("coffee".to_owned(), vec![])];
        doc.add_activities(&coffee, 0.65);
        doc.add_activities(&coffee, 0.65);
        assert_eq!(doc.activity_keys(), vec!["coffee"]);
    }
}
