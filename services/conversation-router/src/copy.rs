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

/// LINKUP dialog: which activity, from the person's favourites (A, B, C).
pub fn ask_linkup_activity(names: &[String]) -> String {
    let letters = ["A", "B", "C"];
    let options: Vec<String> = names
        .iter()
        .zip(letters)
        .map(|(n, l)| format!("{l} {n}"))
        .collect();
    format!(
        "What would you like to do? {}, or name something else.",
        options.join(", ")
    )
}

/// LINKUP dialog: which day.
pub const ASK_LINKUP_DAY: &str =
    "When works? A today, B tomorrow, C Saturday, D Sunday, or name a day and time.";

/// LINKUP dialog: which part of the day.
pub const ASK_LINKUP_PART: &str = "What time of day? A morning, B afternoon, C evening";

/// LINKUP dialog: "this weekend" needs a day.
pub const ASK_LINKUP_WEEKEND_DAY: &str = "Saturday or Sunday? A Sat, B Sun";

/// LINKUP dialog: group size.
pub const ASK_LINKUP_SIZE: &str = "How many people, you included? A 2-3, B 4-6, C 7-10";

/// A free-text request whose one clarifier got no usable answer: no second clarifier.
pub const LINKUP_NOT_CLEAR: &str =
    "I couldn't tell, sorry. Try again like 'coffee Saturday morning?' or text LINKUP.";

/// The request went to the matcher.
pub fn linkup_on_it(activity: &str, when: &str) -> String {
    format!("On it! I'll look for people for {activity} {when} and text you as they say yes.")
}

/// A repeat of a request already being worked on.
pub fn linkup_already(activity: &str, when: &str) -> String {
    format!("I'm already on {activity} {when} for you. I'll text you as people say yes.")
}

/// Too soon to gather a group: a later window, confirmed with YES.
pub fn linkup_too_soon(later: &str) -> String {
    format!(
        "That's too soon for me to gather a group. How about {later}? Reply YES or another time."
    )
}

/// Three requests a day at most (product-rules §1).
pub const LINKUP_DAILY_LIMIT: &str =
    "That's 3 LinkUp requests today, my limit. Let's see how those go and try again tomorrow.";

/// Initiating while the region is not open.
pub fn linkup_region_closed(region: &str) -> String {
    format!(
        "JOSH isn't live in {region} yet, so I can't plan LinkUps there. I'll text you when we open."
    )
}

/// Initiating before the profile is complete: the interview resumes with `question`.
pub fn linkup_profile_first(question: &str) -> String {
    format!("Let's finish your profile first. {question}")
}

/// Initiating while held.
pub const LINKUP_ON_HOLD: &str =
    "Your account is paused for review, so I can't plan LinkUps right now. Reply HELP.";

/// A dialog that was abandoned.
pub const LINKUP_DROPPED_DRAFT: &str =
    "OK, never mind. Text me anytime, like 'coffee Saturday morning?'";

/// Two invites pending and an answer that could be for either.
pub fn which_invite(labels: &[String]) -> String {
    let options: Vec<String> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| format!("{} {l}", i + 1))
        .collect();
    format!("Which one? {}", options.join(", "))
}

/// An invite accepted.
pub fn invite_accepted(what: &str) -> String {
    format!("You're in for {what}! I'll text you when the group is set.")
}

/// An invite declined.
pub const INVITE_DECLINED: &str = "No problem, thanks for letting me know.";

/// Post-event: attendance (product-rules §6).
pub fn ask_attended(what: &str) -> String {
    format!("How was {what}? Reply 1 if you went, 2 if you couldn't make it, 3 if not sure.")
}

/// Post-event: do again.
pub const ASK_DO_AGAIN: &str = "Would you do something like that again? Y or N";

/// Post-event: optional feedback.
pub const ASK_FEEDBACK: &str = "Anything you'd like me to know about it? Or reply SKIP.";

/// Post-event: contact choices among the other attendees.
pub fn ask_contacts(names: &[String]) -> String {
    let options: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{} {n}", i + 1))
        .collect();
    format!(
        "Want to swap numbers with anyone? {}. Reply like 1,3 or ALL or NONE. They only see yours if they pick you too.",
        options.join(", ")
    )
}

/// Post-event: done.
pub const POST_EVENT_THANKS: &str = "Thanks! That helps me plan better LinkUps.";

/// Post-event: contact choices recorded.
pub const CONTACTS_NOTED: &str =
    "Got it. If someone you picked picks you too, I'll send you each other's numbers.";

/// The one-time code of the web registration.
pub fn otp(code: &str) -> String {
    format!("Your JOSH code is {code}. It expires in 10 minutes. Don't share it with anyone.")
}

/// After the lock: the one-time link to the LinkUp page.
pub fn linkup_page(url: &str) -> String {
    format!("Your LinkUp page, with who's coming: {url}")
}

/// PAUSE.
pub const PAUSED: &str =
    "Invites paused. You can still start a LinkUp anytime. Text RESUME to get invites again.";

/// RESUME.
pub const RESUMED: &str = "Invites are back on. I'll text you when something fits.";

/// PROFILE, first text.
pub fn profile_summary(activities: &[String], times: &[String], size: Option<&str>) -> String {
    let activities = if activities.is_empty() {
        "nothing yet".to_owned()
    } else {
        activities.join(", ")
    };
    let times = if times.is_empty() {
        "not set".to_owned()
    } else {
        times.join(", ")
    };
    let size = size.unwrap_or("not set");
    format!("What I know: you like {activities}. Free: {times}. Group size: {size}.")
}

/// PROFILE, second text.
pub fn profile_details(skip: &[String], paused: bool) -> String {
    let skip = if skip.is_empty() {
        "nothing".to_owned()
    } else {
        skip.join(", ")
    };
    let invites = if paused { "paused" } else { "on" };
    format!("You'd rather skip: {skip}. Invites: {invites}. Text DELETE to delete your account.")
}

/// DELETE: the confirmation.
pub const CONFIRM_DELETE: &str =
    "Delete your JOSH account and everything I know about you? Reply DELETE to confirm.";

/// DELETE not confirmed.
pub const DELETE_KEPT: &str = "OK, your account stays. Text MENU for options.";

/// DELETE done.
pub const DELETED: &str =
    "Your account is deleted. Thanks for trying JOSH. Text us anytime to start over.";

/// BLOCK / REPORT with no past LinkUps.
pub const NOBODY_TO_PICK: &str =
    "You haven't met anyone through JOSH yet. If something's wrong, reply HELP.";

/// BLOCK: whom.
pub fn ask_block(names: &[String]) -> String {
    format!("Who do you want to block? {}", numbered(names))
}

/// BLOCK done.
pub fn blocked(name: &str) -> String {
    format!("Done. You won't be matched with {name} again.")
}

/// REPORT: whom.
pub fn ask_report_who(names: &[String]) -> String {
    format!(
        "Who are you reporting? {} They won't know it was you.",
        numbered(names)
    )
}

/// REPORT: what.
pub const ASK_REPORT_WHAT: &str = "What happened? A inappropriate, B made me uncomfortable, \
C no-show or late cancel, D other";

/// REPORT filed.
pub const REPORT_FILED: &str =
    "Thanks for telling me. Our team will review it. If you're in danger, call 911.";

fn numbered(names: &[String]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{} {n}", i + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one refresh prompt of a stale profile.
pub fn refresh(first_name: &str) -> String {
    format!(
        "Hi {first_name}, it's been a while! Text PROFILE to see what I know about you and keep it current."
    )
}

/// Paused onboarding.
pub const NO_RUSH: &str = "No rush — reply anything when you're ready.";

/// Unknown input: the options, never silence.
pub const MENU: &str = "I can help with: LINKUP (plan something), PROFILE, PAUSE, HELP. \
Or just text me, like \"coffee Saturday morning?\"";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Phrases JOSH never uses (product-rules §10).
    const NEVER: &[&str] = &[
        "as an ai",
        "i understand",
        "great question",
        "that's interesting",
        "fingerprint",
        "score",
        "signal",
        "motive weight",
        "guarantee",
    ];

    fn all_texts() -> Vec<(String, usize)> {
        vec![
            (HELP.to_owned(), 1),
            (OPT_OUT_CONFIRMATION.to_owned(), 1),
            (OPT_IN_CONFIRMATION.to_owned(), 1),
            (CRISIS.to_owned(), 1),
            (SAFETY_WARNING.to_owned(), 1),
            (ACCOUNT_PAUSED.to_owned(), 1),
            (SLOW_DOWN.to_owned(), 1),
            (SYSTEM_ERROR.to_owned(), 1),
            (REGISTER_WELCOME.to_owned(), 1),
            (ask_last_name("Alexandria"), 1),
            (ASK_BIRTHDAY.to_owned(), 1),
            (BIRTHDAY_AGAIN.to_owned(), 1),
            (UNDER_18.to_owned(), 1),
            (ASK_ZIP.to_owned(), 1),
            (ZIP_AGAIN.to_owned(), 1),
            (NAME_AGAIN.to_owned(), 1),
            // Two links make the consent text longer: two segments is its budget.
            (ask_agree("https://josh.example"), 2),
            (waitlisted("San Francisco — Mission"), 2),
            (onboarding_opening("Alexandria"), 1),
            (NO_RUSH.to_owned(), 1),
            (LINKUPS_EXPLAINED.to_owned(), 1),
            (ASK_ACTIVITIES.to_owned(), 1),
            (ACTIVITY_LIST.to_owned(), 1),
            (
                ask_top_pick(&[
                    "Board games".to_owned(),
                    "Volunteering".to_owned(),
                    "Farmers market".to_owned(),
                ]),
                1,
            ),
            (MENU.to_owned(), 1),
            (ASK_MORE_ACTIVITIES.to_owned(), 1),
            (ASK_MOTIVE.to_owned(), 1),
            (ASK_STYLE.to_owned(), 1),
            (ASK_TOPICS.to_owned(), 1),
            (ASK_PACE.to_owned(), 1),
            (ASK_GROUP.to_owned(), 1),
            (ASK_VALUES.to_owned(), 1),
            (ASK_BOUNDARIES.to_owned(), 1),
            (ASK_TIMES.to_owned(), 1),
            (INTERVIEW_DONE.to_owned(), 1),
            (INTERVIEW_INCOMPLETE.to_owned(), 1),
            (welcome_back(ASK_PACE), 1),
            (again(ASK_GROUP), 1),
            (nudge("Alexandria"), 1),
            (
                ask_linkup_activity(&[
                    "Board games".to_owned(),
                    "Farmers market".to_owned(),
                    "Volunteering".to_owned(),
                ]),
                1,
            ),
            (ASK_LINKUP_DAY.to_owned(), 1),
            (ASK_LINKUP_PART.to_owned(), 1),
            (ASK_LINKUP_WEEKEND_DAY.to_owned(), 1),
            (ASK_LINKUP_SIZE.to_owned(), 1),
            (LINKUP_NOT_CLEAR.to_owned(), 1),
            (linkup_on_it("farmers market", "Wed afternoon"), 1),
            (linkup_already("farmers market", "Wed afternoon"), 1),
            (linkup_too_soon("Wed afternoon"), 1),
            (LINKUP_DAILY_LIMIT.to_owned(), 1),
            (linkup_region_closed("San Francisco — Mission"), 2),
            (linkup_profile_first(ASK_PACE), 1),
            (LINKUP_ON_HOLD.to_owned(), 1),
            (LINKUP_DROPPED_DRAFT.to_owned(), 1),
            (
                which_invite(&[
                    "coffee Sat morning".to_owned(),
                    "walk Sun afternoon".to_owned(),
                ]),
                1,
            ),
            (invite_accepted("board games Sat afternoon"), 1),
            (INVITE_DECLINED.to_owned(), 1),
            (ask_attended("board games Sat afternoon"), 1),
            (ASK_DO_AGAIN.to_owned(), 1),
            (ASK_FEEDBACK.to_owned(), 1),
            (
                ask_contacts(&[
                    "Alexandria".to_owned(),
                    "Bartholomew".to_owned(),
                    "Christopher".to_owned(),
                    "Dee".to_owned(),
                    "Evangeline".to_owned(),
                ]),
                2,
            ),
            (POST_EVENT_THANKS.to_owned(), 1),
            (CONTACTS_NOTED.to_owned(), 1),
            (otp("123456"), 1),
            (PAUSED.to_owned(), 1),
            (refresh("Alexandria"), 1),
            (RESUMED.to_owned(), 1),
            (
                profile_summary(
                    &[
                        "coffee".to_owned(),
                        "board games".to_owned(),
                        "farmers market".to_owned(),
                    ],
                    &["morning".to_owned(), "weekend".to_owned()],
                    Some("4-6"),
                ),
                1,
            ),
            (
                profile_details(&["bars".to_owned(), "late night".to_owned()], false),
                1,
            ),
            (CONFIRM_DELETE.to_owned(), 1),
            (DELETE_KEPT.to_owned(), 1),
            (DELETED.to_owned(), 1),
            (NOBODY_TO_PICK.to_owned(), 1),
            (
                ask_block(&[
                    "Alexandria".to_owned(),
                    "Bartholomew".to_owned(),
                    "Christopher".to_owned(),
                ]),
                1,
            ),
            (blocked("Bartholomew"), 1),
            (
                ask_report_who(&[
                    "Alexandria".to_owned(),
                    "Bartholomew".to_owned(),
                    "Christopher".to_owned(),
                ]),
                1,
            ),
            (ASK_REPORT_WHAT.to_owned(), 1),
            (REPORT_FILED.to_owned(), 1),
            (
                linkup_page("https://josh.example/l/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                1,
            ),
        ]
    }

    #[test]
    fn every_text_fits_its_segment_budget() {
        for (text, budget) in all_texts() {
            let count = twilio::segments::count(&text);
            assert!(count.segments <= budget, "{text:?} costs {count:?}");
        }
    }

    #[test]
    fn no_text_uses_a_banned_phrase() {
        for (text, _) in all_texts() {
            let lower = text.to_lowercase();
            for phrase in NEVER {
                assert!(!lower.contains(phrase), "{text:?} says {phrase:?}");
            }
        }
    }

    #[test]
    fn carrier_texts_carry_the_required_words() {
        assert!(HELP.contains("Msg&data rates may apply"));
        assert!(HELP.contains("Reply STOP to opt out"));
        assert!(CRISIS.contains("988") && CRISIS.contains("HOME to 741741"));
    }
}
