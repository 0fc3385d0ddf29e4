//! Safety phrase tiers (product-rules §9): lower-case, punctuation stripped, whole words or
//! phrases. The list is versioned data (table `safety_keyword_rules`); this is the matcher.

use super::normalize::{contains_phrase, words};

/// How serious a matched phrase is, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Logged only.
    Low,
    /// Warning text, incident, a strike.
    Medium,
    /// Hold, incident, admin alert.
    High,
    /// The crisis reply at once, a critical incident, an urgent alert, a soft hold.
    Crisis,
}

impl Tier {
    /// Parses the database's tier name.
    pub fn from_name(name: &str) -> Option<Tier> {
        match name {
            "low" => Some(Tier::Low),
            "medium" => Some(Tier::Medium),
            "high" => Some(Tier::High),
            "crisis" => Some(Tier::Crisis),
            _ => None,
        }
    }
}

/// A loaded phrase list.
#[derive(Debug, Clone, Default)]
pub struct SafetyRules {
    phrases: Vec<(Tier, String)>,
}

/// The most serious match in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyHit {
    /// Its tier.
    pub tier: Tier,
    /// The phrase that matched (for the incident record; never the whole text).
    pub phrase: String,
}

impl SafetyRules {
    /// Rules from (tier, phrase) pairs; phrases are normalised like texts.
    pub fn new(rules: impl IntoIterator<Item = (Tier, String)>) -> Self {
        let phrases = rules
            .into_iter()
            .map(|(tier, p)| (tier, words(&p)))
            .collect();
        Self { phrases }
    }

    /// The most serious phrase found in `text`, if any.
    pub fn classify(&self, text: &str) -> Option<SafetyHit> {
        let normalised = words(text);
        self.phrases
            .iter()
            .filter(|(_, phrase)| contains_phrase(&normalised, phrase))
            .max_by_key(|(tier, _)| *tier)
            .map(|(tier, phrase)| SafetyHit {
                tier: *tier,
                phrase: phrase.clone(),
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// List version 1, as seeded by the migrations.
    fn v1() -> SafetyRules {
        let rules = [
            ("low", "loser"),
            ("low", "shut up"),
            ("low", "idiot"),
            ("low", "stupid"),
            ("medium", "hate you"),
            ("medium", "go away forever"),
            ("medium", "worthless"),
            ("medium", "i despise you"),
            ("high", "kill yourself"),
            ("high", "i will hurt you"),
            ("high", "i will find you"),
            ("high", "i know where you live"),
            ("high", "i am going to hurt you"),
            ("high", "doxx you"),
            ("crisis", "i want to die"),
            ("crisis", "end my life"),
            ("crisis", "suicide"),
            ("crisis", "kill myself"),
            ("crisis", "hurt myself"),
            ("crisis", "self harm"),
        ];
        SafetyRules::new(
            rules
                .iter()
                .map(|(t, p)| (Tier::from_name(t).unwrap(), (*p).to_owned())),
        )
    }

    #[test]
    fn tiers_are_found_as_whole_phrases() {
        let rules = v1();
        let cases: &[(&str, Option<Tier>)] = &[
            ("you're such a LOSER", Some(Tier::Low)),
            ("I hate you.", Some(Tier::Medium)),
            ("i know where you live!!", Some(Tier::High)),
            ("sometimes I want to die", Some(Tier::Crisis)),
            ("Self-harm", Some(Tier::Crisis)),
            ("coffee saturday?", None),
            ("whatever, you're stupidity itself", None),
            ("I'd hate youth soccer", None),
        ];
        for (text, tier) in cases {
            assert_eq!(rules.classify(text).map(|h| h.tier), *tier, "{text:?}");
        }
    }

    #[test]
    fn the_most_serious_match_wins() {
        let hit = v1().classify("you idiot, I will hurt you").unwrap();
        assert_eq!(
            hit,
            SafetyHit {
                tier: Tier::High,
                phrase: "i will hurt you".to_owned()
            }
        );
        assert_eq!(
            v1().classify("stupid, I want to die").unwrap().tier,
            Tier::Crisis
        );
    }
}
