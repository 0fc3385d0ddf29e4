//! Which dead letters a listing or a replay of all takes.

use super::DeadLetter;
use crate::subjects::{DLQ_PREFIX, dlq_subject};

/// Which dead letters: every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this consumer's.
    pub consumer: Option<String>,
    /// Only those whose original subject matches: exactly, as a NATS pattern (`*`, `>`), or as
    /// a subject without its partition token (`josh.evt.sms.received` matches `...p03`).
    pub subject: Option<String>,
}

impl Filter {
    /// Every dead letter of `consumer`.
    pub fn consumer(consumer: &str) -> Self {
        Self {
            consumer: Some(consumer.to_owned()),
            subject: None,
        }
    }

    /// Whether `letter` passes.
    pub fn matches(&self, letter: &DeadLetter) -> bool {
        self.consumer.as_ref().is_none_or(|c| *c == letter.consumer)
            && self
                .subject
                .as_deref()
                .is_none_or(|s| subject_matches(s, &letter.original_subject))
    }

    pub(super) fn stream_filter(&self) -> String {
        self.consumer
            .as_deref()
            .map_or_else(|| format!("{DLQ_PREFIX}.>"), dlq_subject)
    }
}

/// Whether `subject` matches `pattern`: token by token, `*` one token, `>` the rest; a pattern
/// without wildcards also matches its subject plus one more token (its partitions, `.p03`).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (t, Some(s)) if t == s => {}
            _ => return false,
        }
    }
    let rest = subject.count();
    if pattern.contains('*') {
        rest == 0
    } else {
        rest <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::subject_matches;

    #[test]
    fn subject_filters_match_patterns_and_partitions() {
        let s = "josh.evt.sms.received.p03";
        for pattern in [
            s,
            "josh.evt.sms.received",
            "josh.evt.sms.received.*",
            "josh.evt.>",
            "josh.*.sms.received.p03",
        ] {
            assert!(subject_matches(pattern, s), "{pattern}");
        }
        for pattern in [
            "josh.evt.sms.received.p04",
            "josh.evt.sms",
            "josh.evt.sms.received.p03.x",
            "josh.*.sms",
            "josh.cmd.>",
            "josh.evt.sms.receive",
        ] {
            assert!(!subject_matches(pattern, s), "{pattern}");
        }
    }
}
