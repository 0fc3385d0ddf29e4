//! Carrier keywords (product-rules §1 step 3): matched on the whole trimmed message,
//! case-insensitively, before anything else. STOP family > START family > HELP family.
//! Plain-language opt-outs ("stop texting me", "unsubscribe me please") are opt-outs too.

use super::normalize::{contains_phrase, words};

/// What a carrier keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierCommand {
    /// Opt out: one confirmation, then silence.
    OptOut,
    /// Opt back in.
    OptIn,
    /// Who we are and how to get help.
    Help,
}

/// The STOP family.
pub const OPT_OUT_WORDS: &[&str] = &[
    "stop",
    "stopall",
    "unsubscribe",
    "cancel",
    "end",
    "quit",
    "optout",
    "revoke",
];
/// The START family (`yes` counts only while opted out; see [`carrier_command`]).
pub const OPT_IN_WORDS: &[&str] = &["start", "unstop"];
/// The HELP family.
pub const HELP_WORDS: &[&str] = &["help", "info"];

/// Phrases that opt out in plain language, matched as whole words anywhere in the text.
const PLAIN_OPT_OUTS: &[&str] = &[
    "stop texting",
    "stop messaging",
    "stop sending",
    "stop contacting",
    "stop it",
    "stop please",
    "please stop",
    "unsubscribe",
    "opt out",
    "optout",
    "remove me",
    "take me off",
    "dont text me",
    "do not text me",
    "leave me alone",
];

/// The carrier command `text` is, if any. `opted_out` says whether the sender is currently
/// opted out, the only time a bare `yes` opts back in.
pub fn carrier_command(text: &str, opted_out: bool) -> Option<CarrierCommand> {
    let whole = text.trim().to_lowercase();
    if OPT_OUT_WORDS.contains(&whole.as_str()) {
        return Some(CarrierCommand::OptOut);
    }
    if OPT_IN_WORDS.contains(&whole.as_str()) || (opted_out && whole == "yes") {
        return Some(CarrierCommand::OptIn);
    }
    if HELP_WORDS.contains(&whole.as_str()) {
        return Some(CarrierCommand::Help);
    }
    let normalised = words(text);
    if PLAIN_OPT_OUTS
        .iter()
        .any(|p| contains_phrase(&normalised, p))
    {
        return Some(CarrierCommand::OptOut);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::CarrierCommand::*;
    use super::*;

    #[test]
    fn keywords_match_the_whole_message_in_any_case() {
        let cases: &[(&str, bool, Option<CarrierCommand>)] = &[
            ("STOP", false, Some(OptOut)),
            ("  Stop  ", false, Some(OptOut)),
            ("stopall", false, Some(OptOut)),
            ("CANCEL", false, Some(OptOut)),
            ("Revoke", false, Some(OptOut)),
            ("start", true, Some(OptIn)),
            ("UNSTOP", true, Some(OptIn)),
            ("yes", true, Some(OptIn)),
            ("yes", false, None),
            ("HELP", false, Some(Help)),
            ("info", false, Some(Help)),
            ("help me pick a time", false, None),
            ("the end of the week works", false, None),
            ("I can't stop smiling", false, None),
        ];
        for (text, opted_out, expected) in cases {
            assert_eq!(carrier_command(text, *opted_out), *expected, "{text:?}");
        }
    }

    #[test]
    fn plain_language_opt_outs_are_opt_outs() {
        for text in [
            "stop texting me",
            "Please STOP.",
            "unsubscribe me please",
            "Remove me from this list",
            "don't text me again",
            "opt out",
        ] {
            assert_eq!(carrier_command(text, false), Some(OptOut), "{text:?}");
        }
    }
}
