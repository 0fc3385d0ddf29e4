//! Plain-words reasons for an invite ("you both like coffee", "similar social pace"). Never
//! private attributes, safety state or location.

use super::{Moment, Person, Score};

/// Factor values closer than this read as "similar".
const CLOSE: f64 = 0.15;
/// Factors with less confidence than this say nothing.
const CONFIDENT: f64 = 0.4;

/// Up to three reasons, strongest first, for inviting `candidate` to a group led by `subject`.
pub fn top_reasons(
    subject: &Person,
    candidate: &Person,
    moment: &Moment,
    score: &Score,
) -> Vec<String> {
    let mut reasons: Vec<(f64, String)> = Vec::new();
    let activity = moment.activity_key.replace('_', " ");
    if let (Some(_), Some(_)) = (
        subject.pattern(&moment.activity_key),
        candidate.pattern(&moment.activity_key),
    ) {
        reasons.push((1.0, format!("you both like {activity}")));
    } else if candidate.pattern(&moment.activity_key).is_some() {
        reasons.push((0.9, format!("likes {activity}")));
    }
    for (name, a) in &subject.fingerprint.0 {
        let Some(b) = candidate.fingerprint.0.get(name) else {
            continue;
        };
        let gap = (a.value - b.value).abs();
        if gap <= CLOSE && a.confidence.min(b.confidence) >= CONFIDENT {
            let strength = (1.0 - gap) * a.confidence.min(b.confidence);
            reasons.push((strength, format!("similar {}", name.replace('_', " "))));
        }
    }
    let candidate_pattern = candidate.pattern(&moment.activity_key);
    for (motive, w) in &moment.motives {
        let theirs = candidate_pattern
            .and_then(|p| p.motive_weights.get(motive).copied())
            .unwrap_or_else(|| candidate.strongest_motive(motive));
        if *w >= 0.5 && theirs >= 0.5 {
            reasons.push((
                w.min(theirs) * 0.9,
                format!("both want {}", motive.replace('_', " ")),
            ));
        }
    }
    if score.components.time == Some(1.0)
        && let Some(tag) = moment.window_tags.first()
    {
        reasons.push((0.6, format!("both free {}", window_words(tag))));
    }
    if score.components.nov == Some(1.0) {
        reasons.push((0.3, "new faces to each other".to_owned()));
    }
    reasons.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.1.cmp(&b.1))
    });
    reasons.into_iter().map(|(_, r)| r).take(3).collect()
}

fn window_words(tag: &str) -> &str {
    match tag {
        "morning" => "in the morning",
        "day" => "in the afternoon",
        "evening" => "in the evening",
        "weekend" => "on weekends",
        other => other,
    }
}
