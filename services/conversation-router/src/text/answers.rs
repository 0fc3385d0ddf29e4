//! Tolerant answers to JOSH's questions: "2", "two", "b", "B)", "second", "yes", "yeah", "👍",
//! lists like "1,3" or "a and c", ALL / NONE, and refusals ("skip", "rather not").

use super::normalize::words;

/// A yes or a no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YesNo {
    /// Yes.
    Yes,
    /// No.
    No,
}

const YES: &[&str] = &[
    "yes",
    "y",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "in",
    "im in",
    "count me in",
    "absolutely",
    "definitely",
    "of course",
    "si",
    "sí",
    "oui",
    "ja",
    "👍",
    "✅",
    "🙌",
];
const NO: &[&str] = &[
    "no",
    "n",
    "nah",
    "nope",
    "pass",
    "cant",
    "cannot",
    "not this time",
    "no thanks",
    "non",
    "nein",
    "👎",
    "❌",
];
const REFUSALS: &[&str] = &[
    "skip",
    "rather not",
    "id rather not",
    "prefer not to say",
    "pass",
];
const PAUSES: &[&str] = &["later", "no", "not now", "nope", "nah", "not yet"];
const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];
const ORDINALS: &[&str] = &[
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];
/// Words that may surround a choice without changing it ("option b", "number 2", "b please").
const FILLER: &[&str] = &[
    "option", "number", "no.", "choice", "the", "please", "pls", "i", "pick", "choose",
];

/// A yes or no, if the whole answer is one.
pub fn yes_no(text: &str) -> Option<YesNo> {
    let w = words(text);
    let w = w.trim_end_matches(" please").trim_end_matches(" thanks");
    if YES.contains(&w) {
        Some(YesNo::Yes)
    } else if NO.contains(&w) {
        Some(YesNo::No)
    } else {
        None
    }
}

/// Whether the answer declines to answer ("skip", "rather not"): nothing changes, JOSH moves on.
pub fn is_refusal(text: &str) -> bool {
    REFUSALS.contains(&words(text).as_str())
}

/// Whether the answer asks to pause the onboarding ("later", "not now").
pub fn is_pause(text: &str) -> bool {
    PAUSES.contains(&words(text).as_str())
}

/// The 0-based option chosen among `options`, from "2", "two", "second", "b", "B)", "#2",
/// "option b".
pub fn choice(text: &str, options: usize) -> Option<usize> {
    let w = words(text);
    let tokens: Vec<&str> = w
        .split(' ')
        .filter(|t| !t.is_empty() && !FILLER.contains(t))
        .collect();
    match tokens.as_slice() {
        [one] => token_choice(one, options),
        _ => None,
    }
}

/// Several 0-based options, from "1,3", "1 and 3", "a c", "2 & 4", ALL or NONE; at most `max`.
/// `Ok(vec![])` for NONE. `Err(())` when any part is not an option or too many are named.
#[allow(clippy::result_unit_err)]
pub fn choices(text: &str, options: usize, max: usize) -> Result<Vec<usize>, ()> {
    let w = words(text);
    match w.as_str() {
        "all" | "all of them" | "everyone" => return Ok((0..options).take(max).collect()),
        "none" | "nobody" | "no one" | "none of them" => return Ok(Vec::new()),
        _ => {}
    }
    let mut picked = Vec::new();
    for token in w
        .split(' ')
        .filter(|t| !t.is_empty() && !["and", "&", "or"].contains(t))
    {
        if FILLER.contains(&token) {
            continue;
        }
        let index = token_choice(token, options).ok_or(())?;
        if !picked.contains(&index) {
            picked.push(index);
        }
    }
    if picked.is_empty() || picked.len() > max {
        return Err(());
    }
    Ok(picked)
}

fn token_choice(token: &str, options: usize) -> Option<usize> {
    let token = token.trim_start_matches('#');
    let index = if let Ok(n) = token.parse::<usize>() {
        n.checked_sub(1)?
    } else if let Some(i) = NUMBER_WORDS.iter().position(|w| *w == token) {
        i
    } else if let Some(i) = ORDINALS.iter().position(|w| *w == token) {
        i
    } else if token.len() == 1 && token.chars().all(|c| c.is_ascii_lowercase()) {
        usize::from(token.as_bytes()[0] - b'a')
    } else {
        return None;
    };
    (index < options).then_some(index)
}

/// A reply to a LinkUp invite (product-rules §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteReply {
    /// Accepted; `Some(i)` picks time option i (0 = A, 1 = B) when two were offered.
    Accept(Option<usize>),
    /// Declined.
    Decline,
}

/// Reads an invite reply: yes-words, or A/B/1/2 picking a time option (`options` is 1 or 2).
pub fn invite_reply(text: &str, options: usize) -> Option<InviteReply> {
    match yes_no(text) {
        Some(YesNo::Yes) => return Some(InviteReply::Accept(None)),
        Some(YesNo::No) => return Some(InviteReply::Decline),
        None => {}
    }
    // With one option, "a" or "1" still means yes to it.
    choice(text, options.clamp(1, 2)).map(|i| InviteReply::Accept((options > 1).then_some(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yes_and_no_in_many_forms() {
        for text in [
            "yes",
            "YES!",
            "Yeah",
            "yep",
            "sure",
            "ok",
            "I'm in",
            "👍",
            "y",
            "Yes please",
        ] {
            assert_eq!(yes_no(text), Some(YesNo::Yes), "{text:?}");
        }
        for text in [
            "no",
            "Nope.",
            "nah",
            "pass",
            "can't",
            "cant",
            "No thanks",
            "👎",
        ] {
            assert_eq!(yes_no(text), Some(YesNo::No), "{text:?}");
        }
        for text in ["", "maybe", "yes and no", "noodles"] {
            assert_eq!(yes_no(text), None, "{text:?}");
        }
    }

    #[test]
    fn single_choices_in_many_forms() {
        let cases: &[(&str, Option<usize>)] = &[
            ("2", Some(1)),
            ("two", Some(1)),
            ("TWO", Some(1)),
            ("second", Some(1)),
            ("b", Some(1)),
            ("B)", Some(1)),
            ("#2", Some(1)),
            ("option b", Some(1)),
            ("b please", Some(1)),
            ("4", Some(3)),
            ("5", None),
            ("e", None),
            ("0", None),
            ("", None),
            ("b or c", None),
            ("banana", None),
        ];
        for (text, expected) in cases {
            assert_eq!(choice(text, 4), *expected, "{text:?}");
        }
    }

    #[test]
    fn lists_all_and_none() {
        assert_eq!(choices("1,3", 4, 4), Ok(vec![0, 2]));
        assert_eq!(choices("1 and 3", 4, 4), Ok(vec![0, 2]));
        assert_eq!(choices("a c", 4, 4), Ok(vec![0, 2]));
        assert_eq!(choices("3, 3, 1", 4, 4), Ok(vec![2, 0]));
        assert_eq!(choices("ALL", 3, 5), Ok(vec![0, 1, 2]));
        assert_eq!(choices("none", 3, 5), Ok(vec![]));
        assert_eq!(choices("1,2,3", 4, 2), Err(()), "too many");
        assert_eq!(choices("1, 9", 4, 4), Err(()), "not an option");
        assert_eq!(choices("", 4, 4), Err(()));
    }

    #[test]
    fn refusals_and_pauses() {
        assert!(is_refusal("skip"));
        assert!(is_refusal("I'd rather not"));
        assert!(!is_refusal("skiing"));
        assert!(is_pause("Not now"));
        assert!(is_pause("later"));
        assert!(!is_pause("later today works"));
    }

    #[test]
    fn invite_replies() {
        assert_eq!(invite_reply("yes", 1), Some(InviteReply::Accept(None)));
        assert_eq!(invite_reply("1", 1), Some(InviteReply::Accept(None)));
        assert_eq!(invite_reply("B", 2), Some(InviteReply::Accept(Some(1))));
        assert_eq!(invite_reply("2", 2), Some(InviteReply::Accept(Some(1))));
        assert_eq!(invite_reply("nah", 2), Some(InviteReply::Decline));
        assert_eq!(invite_reply("c", 2), None);
        assert_eq!(invite_reply("what time?", 2), None);
    }
}
