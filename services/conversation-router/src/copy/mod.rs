//! Everything JOSH says, in one place (product-rules §10): one question per text, 1–3 short
//! sentences, plain and warm, one SMS segment where it can be. Tests hold every text to its
//! segment budget and to the list of things JOSH never says.

/// Who we are and how to get help (HELP / INFO). Carrier-required wording included.
pub const HELP: &str = "JOSH helps you make friends nearby by text. Support: help@josh.example. \
Msg&data rates may apply. Reply STOP to opt out.";

/// The one confirmation after an opt-out; nothing follows it until START.
pub const OPT_OUT_CONFIRMATION: &str =
    "You're unsubscribed from JOSH and won't get more texts. Reply START to come back.";

/// After START (or YES while opted out).
pub const OPT_IN_CONFIRMATION: &str =
    "Welcome back to JOSH! Msg&data rates may apply. Reply HELP for help, STOP to opt out.";

/// The crisis reply: sent at once, never counselling (product-rules §9).
pub const CRISIS: &str = "If you're in danger or thinking about suicide, call or text 988, text \
HOME to 741741, or call 911. You're not alone.";

/// A medium-tier safety warning.
pub const SAFETY_WARNING: &str = "Let's keep JOSH kind. Messages like that can pause your account.";

/// To a held user who texts.
pub const ACCOUNT_PAUSED: &str = "Your account is paused for review. Reply HELP.";

/// Too many texts in a minute (once per window).
pub const SLOW_DOWN: &str = "Whoa, that's a lot of texts! Give me a minute to catch up.";

/// A system error; the inbound text is kept and retried.
pub const SYSTEM_ERROR: &str =
    "Sorry, something went wrong on my side. Please try again in a minute.";

/// An unknown number texts in: offer to join right here.
pub const REGISTER_WELCOME: &str = "Hi, I'm JOSH! I help people make friends nearby. Want to join? \
Reply with your first name to start.";

/// Registration: last name.
pub fn ask_last_name(first_name: &str) -> String {
    format!("Nice to meet you, {first_name}! What's your last name?")
}

/// Registration: birthday.
pub const ASK_BIRTHDAY: &str = "What's your birthday? (like 5/17/1990)";

/// Registration: a birthday we could not read.
pub const BIRTHDAY_AGAIN: &str = "Hmm, I couldn't read that date. Try like 5/17/1990.";

/// Registration: under 18.
pub const UNDER_18: &str = "Sorry, JOSH is for adults 18 and over, so I can't sign you up.";

/// Registration: ZIP code.
pub const ASK_ZIP: &str = "What's your ZIP code? It tells me which city you're in.";

/// Registration: a ZIP we could not read.
pub const ZIP_AGAIN: &str = "That doesn't look like a ZIP code. Please send 5 digits, like 94110.";

/// Registration: a name we could not read.
pub const NAME_AGAIN: &str = "Sorry, I didn't catch that. What name should I use?";

/// Registration: the one consent step (SMS, age, terms, privacy) with links.
pub fn ask_agree(base_url: &str) -> String {
    format!(
        "Last step: reply AGREE to confirm you're 18+, agree to texts from JOSH, the terms \
({base_url}/terms) and privacy policy ({base_url}/privacy)."
    )
}

/// Registration: the region is not open yet.
pub fn waitlisted(region: &str) -> String {
    format!(
        "You're on the list for {region}! JOSH isn't live there yet. I'll text you when we open."
    )
}

/// Onboarding opening (product-rules §3).
pub fn onboarding_opening(first_name: &str) -> String {
    format!(
        "Hi {first_name}, welcome to JOSH! I help you meet people nearby in small groups. \
A few quick questions first."
    )
}

/// Onboarding: what a LinkUp is (product-rules §3).
pub const LINKUPS_EXPLAINED: &str = "Here's how it works: tell me what you'd like to do and when, and \
I'll find 2-6 people nearby who'd enjoy it too. That's a LinkUp.";

/// Interview step activity_01.
pub const ASK_ACTIVITIES: &str =
    "What would you enjoy doing with new friends? Name 2 or 3, like coffee, hiking or board games.";

/// activity_01 when no catalog activity was recognised: a short list to pick from.
pub const ACTIVITY_LIST: &str =
    "Pick 2 or 3 by number: 1 Coffee, 2 Walk, 3 Hike, 4 Brunch, 5 Board games, 6 Trivia";

/// Interview step activity_02: the top pick among `names` (numbered from 1).
pub fn ask_top_pick(names: &[String]) -> String {
    let options: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{} {n}", i + 1))
        .collect();
    format!("Nice! Which is your top pick? {}", options.join(", "))
}

/// activity_more: fewer than 3 activities were named.
pub const ASK_MORE_ACTIVITIES: &str = "Got it! Pick one or two more so I have options: 1 Coffee, 2 Walk, 3 Hike, 4 Brunch, 5 Board games, 6 Trivia";

/// motive_01.
pub const ASK_MOTIVE: &str = "What do you want most from meeting people? Pick 1 or 2: \
A deep talk, B laughs, C recharge, D something new";

/// style_01.
pub const ASK_STYLE: &str =
    "In a group, you're usually: A curious, B funny, C thoughtful, or D energetic?";

/// style_02.
pub const ASK_TOPICS: &str = "What do you like talking about? Pick 1 or 2: \
A ideas, B feelings, C stories, D plans";

/// pace_01.
pub const ASK_PACE: &str = "How do friendships usually grow for you? A slow, B medium, C fast";

/// group_01.
pub const ASK_GROUP: &str = "Your ideal group size? A 2-3 people, B 4-6, C 7-10";

/// values_01.
pub const ASK_VALUES: &str =
    "How much do shared values matter in a friend? A a lot, B somewhat, C not much";

/// boundaries_01.
pub const ASK_BOUNDARIES: &str =
    "Anything you'd rather skip, like bars or late nights? List them, or reply SKIP.";

/// constraints_01.
pub const ASK_TIMES: &str = "When are you usually free? Pick up to 2: \
A mornings, B afternoons, C evenings, D weekends only";

/// The interview reached complete_mvp (product-rules §3).
pub const INTERVIEW_DONE: &str = "You're all set. Text me anytime, like 'coffee Saturday morning?'";

/// The interview ran out of questions with too much skipped to match yet.
pub const INTERVIEW_INCOMPLETE: &str = "Thanks! I need a little more before I can plan LinkUps. \
Text PROFILE anytime to pick up where we left off.";

/// An answer that could not be read: the question again.
pub fn again(question: &str) -> String {
    format!("Sorry, I didn't catch that. {question}")
}

/// A return after a gap: the current question again.
pub fn welcome_back(question: &str) -> String {
    format!("Welcome back! {question}")
}

/// The one dropout nudge.
pub fn nudge(first_name: &str) -> String {
    format!(
        "Hi {first_name}, still up for meeting new people? Reply anything to pick up where we left off."
    )
}

/// Paused onboarding.
pub const NO_RUSH: &str = "No rush — reply anything when you're ready.";

/// Unknown input: the options, never silence.
pub const MENU: &str = "I can help with: LINKUP (plan something), PROFILE, PAUSE, HELP. \
Or just text me, like \"coffee Saturday morning?\"";

mod account;
mod linkups;

pub use account::*;
pub use linkups::*;

#[cfg(test)]
mod tests;
