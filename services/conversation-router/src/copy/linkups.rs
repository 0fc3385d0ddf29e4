//! What JOSH says about LinkUps: requests, invites, the page, and after the event.

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

/// Initiating while ops have paused the open region (product-rules §8).
pub fn linkup_region_paused(region: &str) -> String {
    format!(
        "We're paused here for now, so I can't plan LinkUps in {region} at the moment. Try again in a little while."
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

/// Starting a LinkUp needs a membership: the checkout link (product-rules §7).
pub fn paywall(url: &str) -> String {
    format!("LinkUps are for members: $39.99 a month. Join here and text me again: {url}")
}

/// Billing could not be asked.
pub const BILLING_UNAVAILABLE: &str =
    "I can't check your membership right now. Please try again in a minute.";

/// DROP with nothing to leave.
pub const NOTHING_TO_DROP: &str = "You're not in any upcoming LinkUp right now.";

/// A participant's DROP.
pub const DROPPED: &str = "OK, you're out. I'll let the group know. Thanks for telling me early.";

/// The initiator's DROP: their LinkUp is canceled.
pub const CANCELING: &str = "OK, I'm canceling your LinkUp and letting everyone know.";

/// The matcher found the time too soon: try the later one it suggests.
pub fn linkup_too_soon_retry(later: &str) -> String {
    format!("That's too soon for me to gather a group. Try {later}? Text it like 'coffee {later}'.")
}
