//! Hand-written `Debug` for the messages that carry full phone numbers, so a logged envelope
//! never shows one (`build.rs` tells prost-build to skip their derived `Debug`).
//!
//! When a field is added to one of these messages, add it here too.

use std::fmt;

use crate::v1::{SendSms, SmsReceived};

/// A phone number with everything but its first two and last two characters masked,
/// e.g. `+1*******67`.
struct MaskedPhone<'a>(&'a str);

impl fmt::Debug for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        let masked: String = if chars.len() <= 4 {
            "*".repeat(chars.len())
        } else {
            chars
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < 2 || i + 2 >= chars.len() {
                        *c
                    } else {
                        '*'
                    }
                })
                .collect()
        };
        fmt::Debug::fmt(&masked, f)
    }
}

impl fmt::Debug for SmsReceived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsReceived")
            .field("message_sid", &self.message_sid)
            .field("account_sid", &self.account_sid)
            .field("from_e164", &MaskedPhone(&self.from_e164))
            .field("to_e164", &MaskedPhone(&self.to_e164))
            .field("phone_hash", &self.phone_hash)
            .field("user_id", &self.user_id)
            .field("body", &self.body)
            .field("num_media", &self.num_media)
            .field("num_segments", &self.num_segments)
            .field("received_at", &self.received_at)
            .finish()
    }
}

impl fmt::Debug for SendSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendSms")
            .field("user_id", &self.user_id)
            .field("to_e164", &MaskedPhone(&self.to_e164))
            .field("body", &self.body)
            .field("purpose", &self.purpose())
            .field("urgent", &self.urgent)
            .field("validity_seconds", &self.validity_seconds)
            .field("not_before", &self.not_before)
            .field("region_timezone", &self.region_timezone)
            .field("phone_hash", &self.phone_hash)
            .field("linkup_id", &self.linkup_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{Envelope, SmsPurpose};

    #[test]
    fn phone_numbers_are_masked() {
        let received = SmsReceived {
            from_e164: "+14155550123".to_owned(),
            to_e164: "+14155559876".to_owned(),
            message_sid: "SM123".to_owned(),
            ..SmsReceived::default()
        };
        let shown = format!("{:?}", Envelope::for_payload(received));
        assert!(!shown.contains("4155550123"), "{shown}");
        assert!(!shown.contains("4155559876"), "{shown}");
        assert!(shown.contains("\"+1********23\""), "{shown}");
        assert!(shown.contains("SM123"), "{shown}");

        let send = SendSms {
            to_e164: "+447700900123".to_owned(),
            purpose: SmsPurpose::Invite.into(),
            ..SendSms::default()
        };
        let shown = format!("{send:?}");
        assert!(!shown.contains("7700900123"), "{shown}");
        assert!(shown.contains("Invite"), "{shown}");
    }

    #[test]
    fn short_values_are_fully_masked() {
        assert_eq!(format!("{:?}", MaskedPhone("")), "\"\"");
        assert_eq!(format!("{:?}", MaskedPhone("+123")), "\"****\"");
        assert_eq!(format!("{:?}", MaskedPhone("+1234")), "\"+1*34\"");
    }
}
