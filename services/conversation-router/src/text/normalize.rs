//! Text normalisation shared by every matcher.

/// Lower-cases, replaces punctuation with spaces and collapses whitespace, so matching works on
/// whole words: `"STOP!!  texting me."` → `"stop texting me"`. Apostrophes are dropped rather
/// than spaced (`can't` → `cant`). Letters and digits of every script are kept; emoji too.
pub fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c == '\'' || c == '’' {
            continue;
        }
        if c.is_alphanumeric() || is_symbolic(c) {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

/// Emoji and other pictographs carry meaning in replies (👍), so they survive normalisation.
fn is_symbolic(c: char) -> bool {
    let cp = u32::from(c);
    (0x1F000..=0x1FAFF).contains(&cp) || (0x2600..=0x27BF).contains(&cp)
}

/// Whether `phrase` (already normalised) occurs in `text` (already normalised) as whole words.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    text.match_indices(phrase).any(|(at, _)| {
        let before_ok = at == 0 || text[..at].ends_with(' ');
        let end = at + phrase.len();
        let after_ok = end == text.len() || text[end..].starts_with(' ');
        before_ok && after_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_lowercases_and_strips_punctuation() {
        assert_eq!(words("  STOP!!  texting me. "), "stop texting me");
        assert_eq!(words("Can't make it"), "cant make it");
        assert_eq!(words("yes 👍"), "yes 👍");
        assert_eq!(words("Ça va? Très bien"), "ça va très bien");
        assert_eq!(words("...!!!"), "");
    }

    #[test]
    fn phrases_match_whole_words_only() {
        assert!(contains_phrase("i hate you so much", "hate you"));
        assert!(!contains_phrase("whatever youth", "hate you"));
        assert!(!contains_phrase("stupidity", "stupid"));
        assert!(contains_phrase("stupid", "stupid"));
        assert!(!contains_phrase("anything", ""));
    }
}
