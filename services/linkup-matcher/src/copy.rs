//! The texts the matcher sends (product-rules section 10: one question per text, plain words,
//! warm and brief, no jargon).

/// An invite: activity, time (A/B if two), deadline, how to reply.
pub fn invite(first: &str, activity: &str, whens: &[String], area: &str, deadline: &str) -> String {
    match whens {
        [a, b, ..] => format!(
            "Hi {first}, JOSH here. A small group is getting together for {activity} {area}: \
             A) {a} or B) {b}. Want in? Reply A, B or NO by {deadline}."
        ),
        [a] => format!(
            "Hi {first}, JOSH here. A small group is getting together for {activity} {area}, {a}. \
             Want in? Reply YES or NO by {deadline}."
        ),
        [] => format!(
            "Hi {first}, JOSH here. Want to join a small group for {activity}? Reply YES or NO by {deadline}."
        ),
    }
}

/// The group locked: activity, time, area, how to DROP. The router follows it with each
/// person's one-time link to the LinkUp page (it owns the magic links).
pub fn locked(activity: &str, when: &str, area: &str, people: usize) -> String {
    format!(
        "You're in! {activity}, {when}, {area}, {people} people. \
         Meet in a public place. Can't make it? Reply DROP."
    )
}

/// A yes that came after the group filled.
pub fn filled(activity: &str) -> String {
    format!(
        "Thanks for the yes! That {activity} group already filled. I'll send you the next one that fits."
    )
}

/// A reply to an invite that is no longer open (expired or canceled).
pub fn no_longer_open(activity: &str) -> String {
    format!("That {activity} invite isn't open any more. I'll send you the next one that fits.")
}

/// The window ended under the minimum: to the initiator.
pub fn expired_initiator(activity: &str) -> String {
    format!(
        "Not enough people could make {activity} this time, so it's off. \
         Want to try another time or activity? Just text me what you'd like."
    )
}

/// The window ended under the minimum: to those who had said yes.
pub fn expired_accepted(activity: &str) -> String {
    format!(
        "The {activity} group didn't come together this time, so it's off. Thanks for saying yes!"
    )
}

/// The event-day (or late-lock) reminder.
pub fn reminder(activity: &str, when: &str, area: &str) -> String {
    format!("Reminder: {activity} {when}, {area}. Can't make it? Reply DROP.")
}

/// A mutual yes: the other's first name and number, and how to BLOCK.
pub fn reveal(first_name: &str, phone: &str) -> String {
    format!(
        "{first_name} said yes too! Their number is {phone}. If anything feels off, reply BLOCK."
    )
}

/// The initiator canceled: to those who had said yes, or to the whole group after the lock.
pub fn canceled(activity: &str, when: &str) -> String {
    format!(
        "Heads up: the {activity} meetup {when} is canceled. Sorry about that! I'll send you the next one that fits."
    )
}

/// Someone dropped and the group still meets its minimum.
pub fn dropped_goes_on(activity: &str, when: &str, people: usize) -> String {
    format!(
        "One person can't make {activity} {when} after all. It's still on with {people} of you."
    )
}

/// To the person who dropped.
pub fn drop_confirmed(activity: &str) -> String {
    format!("Got it, you're out of {activity}. Thanks for letting the group know.")
}
