//! Every text against its segment budget and the words JOSH never uses.

#![allow(clippy::unwrap_used)]

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
        (REPORT_UPHELD_WARNING.to_owned(), 1),
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
        (linkup_region_paused("San Francisco — Mission"), 2),
        (linkup_profile_first(ASK_PACE), 1),
        (LINKUP_ON_HOLD.to_owned(), 1),
        (LINKUP_DROPPED_DRAFT.to_owned(), 1),
        (
            paywall("https://checkout.stripe.com/c/pay/cs_test_a1B2c3D4e5F6g7H8i9J0"),
            1,
        ),
        (BILLING_UNAVAILABLE.to_owned(), 1),
        (NOTHING_TO_DROP.to_owned(), 1),
        (DROPPED.to_owned(), 1),
        (CANCELING.to_owned(), 1),
        (linkup_too_soon_retry("Sun afternoon"), 1),
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
