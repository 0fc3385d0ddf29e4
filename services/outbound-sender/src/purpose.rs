//! Purposes as stored (`sms_outbound_jobs.purpose`) and which of them are urgent.

use proto::v1::SmsPurpose;

/// Purposes that ignore quiet hours.
const URGENT: [SmsPurpose; 4] = [
    SmsPurpose::Otp,
    SmsPurpose::OptOutConfirmation,
    SmsPurpose::Help,
    SmsPurpose::Safety,
];

/// Whether a text of `purpose` (or flagged urgent) ignores quiet hours.
pub fn is_urgent(purpose: SmsPurpose, flagged: bool) -> bool {
    flagged || URGENT.contains(&purpose)
}

/// The stored name, e.g. `opt_out_confirmation`.
pub fn name(purpose: SmsPurpose) -> &'static str {
    match purpose {
        SmsPurpose::Unspecified => "unspecified",
        SmsPurpose::Reply => "reply",
        SmsPurpose::Otp => "otp",
        SmsPurpose::Onboarding => "onboarding",
        SmsPurpose::Interview => "interview",
        SmsPurpose::Invite => "invite",
        SmsPurpose::LockNotice => "lock_notice",
        SmsPurpose::Reminder => "reminder",
        SmsPurpose::OutcomePrompt => "outcome_prompt",
        SmsPurpose::ContactReveal => "contact_reveal",
        SmsPurpose::Billing => "billing",
        SmsPurpose::Safety => "safety",
        SmsPurpose::OptOutConfirmation => "opt_out_confirmation",
        SmsPurpose::Help => "help",
        SmsPurpose::System => "system",
    }
}

/// The purpose of a stored name (unknown names are `Unspecified`).
pub fn parse(name: &str) -> SmsPurpose {
    ALL.into_iter()
        .find(|p| self::name(*p) == name)
        .unwrap_or(SmsPurpose::Unspecified)
}

const ALL: [SmsPurpose; 14] = [
    SmsPurpose::Reply,
    SmsPurpose::Otp,
    SmsPurpose::Onboarding,
    SmsPurpose::Interview,
    SmsPurpose::Invite,
    SmsPurpose::LockNotice,
    SmsPurpose::Reminder,
    SmsPurpose::OutcomePrompt,
    SmsPurpose::ContactReveal,
    SmsPurpose::Billing,
    SmsPurpose::Safety,
    SmsPurpose::OptOutConfirmation,
    SmsPurpose::Help,
    SmsPurpose::System,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_urgency() {
        for p in ALL {
            assert_eq!(parse(name(p)), p);
        }
        assert!(is_urgent(SmsPurpose::Otp, false));
        assert!(is_urgent(SmsPurpose::Invite, true));
        assert!(!is_urgent(SmsPurpose::Reminder, false));
    }
}
