//! The parts of a profile scoring reads, parsed leniently from `profiles` JSON: a malformed or
//! missing part is a missing signal, never an error.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

/// One fingerprint factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Factor {
    /// `range_value`, 0..1.
    pub value: f64,
    /// `confidence`, 0..1.
    pub confidence: f64,
}

/// The Friend Fingerprint: factor name to value and confidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fingerprint(pub BTreeMap<String, Factor>);

impl Fingerprint {
    /// Reads `{"social_pace": {"range_value": 0.4, "confidence": 0.55}, ...}`.
    pub fn from_json(value: &Value) -> Self {
        let mut factors = BTreeMap::new();
        if let Some(map) = value.as_object() {
            for (name, f) in map {
                let (Some(v), Some(c)) = (f["range_value"].as_f64(), f["confidence"].as_f64())
                else {
                    continue;
                };
                if c > 0.0 {
                    factors.insert(
                        name.clone(),
                        Factor {
                            value: v.clamp(0.0, 1.0),
                            confidence: c.clamp(0.0, 1.0),
                        },
                    );
                }
            }
        }
        Self(factors)
    }
}

/// One entry of `activity_patterns`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityPattern {
    /// Catalog key.
    pub activity_key: String,
    /// Motive weights 0..1.
    pub motive_weights: BTreeMap<String, f64>,
    /// `morning`, `day`, `evening`, `weekend`.
    pub preferred_windows: Vec<String>,
    /// 0..1 (1 when absent).
    pub confidence: f64,
}

impl ActivityPattern {
    /// Reads the array in `profiles.activity_patterns`.
    pub fn list_from_json(value: &Value) -> Vec<Self> {
        value
            .as_array()
            .map(|items| items.iter().filter_map(Self::from_json).collect())
            .unwrap_or_default()
    }

    fn from_json(item: &Value) -> Option<Self> {
        let activity_key = item["activity_key"].as_str()?.to_owned();
        let motive_weights = item["motive_weights"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_f64().map(|w| (k.clone(), w.clamp(0.0, 1.0))))
                    .collect()
            })
            .unwrap_or_default();
        let preferred_windows = item["preferred_windows"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let confidence = item["confidence"].as_f64().unwrap_or(1.0).clamp(0.0, 1.0);
        Some(Self {
            activity_key,
            motive_weights,
            preferred_windows,
            confidence,
        })
    }
}

/// A person as scoring sees them.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// users.id.
    pub user_id: Uuid,
    /// Their fingerprint.
    pub fingerprint: Fingerprint,
    /// Their activity patterns.
    pub patterns: Vec<ActivityPattern>,
    /// Reliability 0.05..0.95; `None` = no history (cold start, neutral).
    pub reliability: Option<f64>,
    /// Whether they were in a LinkUp with the initiator before; `None` = unknown.
    pub met_before: Option<bool>,
}

impl Person {
    /// Their pattern for `activity`, if any.
    pub fn pattern(&self, activity: &str) -> Option<&ActivityPattern> {
        self.patterns.iter().find(|p| p.activity_key == activity)
    }

    /// Their highest weight for `motive` over all activities.
    pub fn strongest_motive(&self, motive: &str) -> f64 {
        self.patterns
            .iter()
            .filter_map(|p| p.motive_weights.get(motive).copied())
            .fold(0.0, f64::max)
    }

    /// The windows they like for `activity`, else for any activity.
    pub fn windows_for(&self, activity: &str) -> Vec<String> {
        match self.pattern(activity) {
            Some(p) if !p.preferred_windows.is_empty() => p.preferred_windows.clone(),
            _ => {
                let mut all: Vec<String> = self
                    .patterns
                    .iter()
                    .flat_map(|p| p.preferred_windows.clone())
                    .collect();
                all.sort();
                all.dedup();
                all
            }
        }
    }
}

/// Reliability from a person's outcome history (product-rules section 5): 0.5 plus the sum of
/// the per-outcome deltas, clamped to [0.05, 0.95]; `None` without history.
pub fn reliability(outcomes: i64, delta: f64) -> Option<f64> {
    (outcomes > 0).then(|| (0.5 + delta).clamp(0.05, 0.95))
}
