//! What JOSH says about the account: codes, PAUSE, PROFILE, DELETE, BLOCK, REPORT, refreshes.

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

/// To a reported person when the team upholds the report and it did not pause their account.
pub const REPORT_UPHELD_WARNING: &str = "We reviewed a report from a recent LinkUp. Let's keep JOSH kind and reliable: more reports can pause your account.";

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
