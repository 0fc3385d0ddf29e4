//! Scoring v1 (product-rules section 5): pure functions from profiles and a brief to component
//! scores, friend_score, moment_fit and final_score, soft floors, deterministic ranking and the
//! plain-words reasons. Missing signals count as neutral (0.5) at half weight.

mod profile;
mod reasons;

use std::cmp::Ordering;
use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

pub use profile::{ActivityPattern, Factor, Fingerprint, Person, reliability};
pub use reasons::top_reasons;

/// The scoring version recorded with every run and invite.
pub const VERSION: &str = "v1";

/// Component weights, version v1.
pub mod weights {
    /// Fingerprint similarity.
    pub const FFS: f64 = 0.30;
    /// Activity and motive fit.
    pub const ACT: f64 = 0.25;
    /// Time window overlap.
    pub const TIME: f64 = 0.15;
    /// Conversation style and humour.
    pub const COMMS: f64 = 0.10;
    /// Proximity (same region: 1).
    pub const PROX: f64 = 0.10;
    /// Reliability.
    pub const REL: f64 = 0.05;
    /// Novelty.
    pub const NOV: f64 = 0.05;
}

/// A missing signal's value.
const NEUTRAL: f64 = 0.5;
/// A missing signal's weight relative to a present one.
const MISSING_WEIGHT: f64 = 0.5;
/// Fingerprint factors that make up COMMS instead of FFS.
pub const COMMS_FACTORS: [&str; 2] = ["conversation_style", "humor"];
/// Finals within this distance are ties, broken by TIME, ACT, time since last invite, hash.
const TIE: f64 = 0.001;

/// What a LinkUp asks for, as scoring sees it.
#[derive(Debug, Clone, Default)]
pub struct Moment {
    /// Activity catalog key.
    pub activity_key: String,
    /// Motive weights 0..1 the group is for.
    pub motives: BTreeMap<String, f64>,
    /// Profile window words that fit (`morning`, `weekend`, ...).
    pub window_tags: Vec<String>,
    /// Window words of adjacent buckets, worth half (relaxation level 1), else empty.
    pub adjacent_tags: Vec<String>,
}

/// The seven components; `None` where the signal is missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Components {
    /// Fingerprint similarity, mean over the group.
    pub ffs: Option<f64>,
    /// Activity and motive fit.
    pub act: f64,
    /// Time window overlap.
    pub time: Option<f64>,
    /// Conversation style fit.
    pub comms: Option<f64>,
    /// Proximity.
    pub prox: f64,
    /// Reliability.
    pub rel: Option<f64>,
    /// Novelty.
    pub nov: Option<f64>,
}

/// A candidate's score against a group and a brief.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The components.
    pub components: Components,
    /// FFS (+COMMS).
    pub friend: f64,
    /// ACT + TIME against the brief.
    pub moment: f64,
    /// The weighted sum.
    pub final_score: f64,
}

/// Soft floors at a relaxation level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// Minimum friend score.
    pub friend: f64,
    /// Minimum moment fit.
    pub moment: f64,
}

impl Floors {
    /// The floors at relaxation `level` (level 1 and up lower the activity floor).
    pub fn at_level(level: u8) -> Self {
        Self {
            friend: 0.55,
            moment: if level >= 1 { 0.45 } else { 0.55 },
        }
    }

    /// Whether `score` clears both floors.
    pub fn pass(self, score: &Score) -> bool {
        score.friend >= self.friend && score.moment >= self.moment
    }
}

fn weighted(parts: &[(f64, Option<f64>)]) -> f64 {
    let (mut sum, mut total) = (0.0, 0.0);
    for &(weight, value) in parts {
        let (w, v) = match value {
            Some(v) => (weight, v),
            None => (weight * MISSING_WEIGHT, NEUTRAL),
        };
        sum += w * v;
        total += w;
    }
    if total > 0.0 { sum / total } else { NEUTRAL }
}

/// Scores `candidate` for a group (`members`: the initiator and those who accepted) and `moment`.
pub fn score(members: &[&Person], candidate: &Person, moment: &Moment) -> Score {
    let ffs = mean(
        members
            .iter()
            .filter_map(|m| similarity(&m.fingerprint, &candidate.fingerprint, false)),
    );
    let comms = mean(
        members
            .iter()
            .filter_map(|m| similarity(&m.fingerprint, &candidate.fingerprint, true)),
    );
    let initiator_pattern = members
        .first()
        .and_then(|m| m.pattern(&moment.activity_key));
    let components = Components {
        ffs,
        act: activity_fit(moment, initiator_pattern, candidate),
        time: time_fit(moment, candidate),
        comms,
        prox: 1.0,
        rel: candidate.reliability,
        nov: candidate.met_before.map(|met| if met { 0.0 } else { 1.0 }),
    };
    let c = components;
    let friend = weighted(&[(weights::FFS, c.ffs), (weights::COMMS, c.comms)]);
    let moment_fit = weighted(&[(weights::ACT, Some(c.act)), (weights::TIME, c.time)]);
    let final_score = weighted(&[
        (weights::FFS, c.ffs),
        (weights::ACT, Some(c.act)),
        (weights::TIME, c.time),
        (weights::COMMS, c.comms),
        (weights::PROX, Some(c.prox)),
        (weights::REL, c.rel),
        (weights::NOV, c.nov),
    ]);
    Score {
        components,
        friend,
        moment: moment_fit,
        final_score,
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

/// Confidence-weighted mean of 1 − |a − b| over the factors both have (COMMS factors only when
/// `comms`, all others otherwise); `None` when they share none.
pub fn similarity(a: &Fingerprint, b: &Fingerprint, comms: bool) -> Option<f64> {
    let (mut sum, mut total) = (0.0, 0.0);
    for (name, fa) in &a.0 {
        if COMMS_FACTORS.contains(&name.as_str()) != comms {
            continue;
        }
        let Some(fb) = b.0.get(name) else { continue };
        let w = fa.confidence.min(fb.confidence);
        sum += w * (1.0 - (fa.value - fb.value).abs());
        total += w;
    }
    (total > 0.0).then(|| sum / total)
}

/// Σ min(w_subject, w_candidate) / Σ w_subject over the activity and the motives.
pub fn activity_fit(
    moment: &Moment,
    initiator: Option<&ActivityPattern>,
    candidate: &Person,
) -> f64 {
    let mut subject: BTreeMap<String, f64> = if moment.motives.is_empty() {
        initiator
            .map(|p| p.motive_weights.clone())
            .unwrap_or_default()
    } else {
        moment.motives.clone()
    };
    subject.insert(format!("activity:{}", moment.activity_key), 1.0);
    let pattern = candidate.pattern(&moment.activity_key);
    let has = |key: &str| -> f64 {
        if let Some(activity) = key.strip_prefix("activity:") {
            return candidate
                .pattern(activity)
                .map_or(0.0, |p| p.confidence.clamp(0.5, 1.0));
        }
        match pattern {
            Some(p) => p.motive_weights.get(key).copied().unwrap_or(0.0),
            None => candidate.strongest_motive(key) * 0.5,
        }
    };
    let total: f64 = subject.values().sum();
    if total <= 0.0 {
        return NEUTRAL;
    }
    subject.iter().map(|(k, w)| w.min(has(k))).sum::<f64>() / total
}

/// Share of the brief's window words the candidate prefers (adjacent words count half);
/// `None` when the candidate named no windows.
pub fn time_fit(moment: &Moment, candidate: &Person) -> Option<f64> {
    let windows = candidate.windows_for(&moment.activity_key);
    if windows.is_empty() || moment.window_tags.is_empty() {
        return None;
    }
    let hits = moment.window_tags.iter().map(|t| {
        if windows.contains(t) {
            1.0
        } else if moment.adjacent_tags.iter().any(|a| windows.contains(a)) {
            0.5
        } else {
            0.0
        }
    });
    Some(hits.sum::<f64>() / moment.window_tags.len() as f64)
}

/// A scored candidate, ready to rank.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// The candidate.
    pub user_id: Uuid,
    /// Their score.
    pub score: Score,
    /// When they were last invited to anything.
    pub last_invited_at: Option<OffsetDateTime>,
}

/// The stable tie-break hash of (subject, candidate, run key).
pub fn tie_hash(subject: Uuid, candidate: Uuid, run_key: &str) -> u64 {
    let digest = Sha256::digest(format!("{subject}|{candidate}|{run_key}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(bytes)
}

/// Orders candidates best first: final score (ties within 0.001), then higher TIME, higher ACT,
/// longer since the last invite (never invited first), then the stable hash.
pub fn rank(candidates: &mut [Ranked], subject: Uuid, run_key: &str) {
    let bucket = |r: &Ranked| (r.score.final_score / TIE).floor() as i64;
    let time = |r: &Ranked| r.score.components.time.unwrap_or(NEUTRAL);
    candidates.sort_by(|a, b| {
        bucket(b)
            .cmp(&bucket(a))
            .then_with(|| time(b).partial_cmp(&time(a)).unwrap_or(Ordering::Equal))
            .then_with(|| {
                b.score
                    .components
                    .act
                    .partial_cmp(&a.score.components.act)
                    .unwrap_or(Ordering::Equal)
            })
            .then_with(|| a.last_invited_at.cmp(&b.last_invited_at))
            .then_with(|| {
                tie_hash(subject, a.user_id, run_key).cmp(&tie_hash(subject, b.user_id, run_key))
            })
    });
}

#[cfg(test)]
mod tests;
