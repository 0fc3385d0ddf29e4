//! Message statuses as Twilio reports them, and the forward-only order JOSH applies: callbacks
//! arrive out of order (or never), so a status only replaces an earlier one.

use std::fmt;
use std::str::FromStr;

/// A Twilio message status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Accepted by a Messaging Service, not yet queued.
    Accepted,
    /// Scheduled for later.
    Scheduled,
    /// Queued to send.
    Queued,
    /// Being sent.
    Sending,
    /// Handed to the carrier.
    Sent,
    /// The carrier could not deliver it (final).
    Undelivered,
    /// Sending failed (final).
    Failed,
    /// Delivered to the handset (final, except that `read` may follow).
    Delivered,
    /// Read (WhatsApp and RCS; final).
    Read,
    /// Delivered to some but not all recipients (final).
    PartiallyDelivered,
    /// Canceled before sending (final).
    Canceled,
    /// An inbound message being received.
    Receiving,
    /// An inbound message received.
    Received,
}

impl MessageStatus {
    /// Every status with its wire name.
    pub const ALL: [(MessageStatus, &'static str); 13] = [
        (Self::Accepted, "accepted"),
        (Self::Scheduled, "scheduled"),
        (Self::Queued, "queued"),
        (Self::Sending, "sending"),
        (Self::Sent, "sent"),
        (Self::Undelivered, "undelivered"),
        (Self::Failed, "failed"),
        (Self::Delivered, "delivered"),
        (Self::Read, "read"),
        (Self::PartiallyDelivered, "partially_delivered"),
        (Self::Canceled, "canceled"),
        (Self::Receiving, "receiving"),
        (Self::Received, "received"),
    ];

    /// The wire name, e.g. `delivered`.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("unknown", |(_, n)| n)
    }

    /// Position in the lifecycle; a status only ever replaces one of lower rank.
    fn rank(self) -> u8 {
        match self {
            Self::Accepted | Self::Scheduled | Self::Receiving => 0,
            Self::Queued | Self::Received => 1,
            Self::Sending => 2,
            Self::Sent => 3,
            Self::Undelivered
            | Self::Failed
            | Self::Delivered
            | Self::Canceled
            | Self::PartiallyDelivered => 4,
            Self::Read => 5,
        }
    }

    /// Whether no further status is expected (reconciliation stops asking).
    pub fn is_final(self) -> bool {
        self.rank() >= 4 || self == Self::Received
    }

    /// Whether moving from `self` to `next` is forward. Between two final statuses nothing moves,
    /// except `delivered` → `read`.
    pub fn advances_to(self, next: MessageStatus) -> bool {
        if self.is_final() {
            return self == Self::Delivered && next == Self::Read;
        }
        next.rank() > self.rank()
    }
}

impl MessageStatus {
    /// The same status as it travels on JOSH's bus (`sms.status_reported`, `sms.sent`).
    pub fn to_bus(self) -> proto::v1::SmsStatus {
        use proto::v1::SmsStatus;
        match self {
            Self::Accepted => SmsStatus::Accepted,
            Self::Scheduled => SmsStatus::Scheduled,
            Self::Queued => SmsStatus::Queued,
            Self::Sending => SmsStatus::Sending,
            Self::Sent => SmsStatus::Sent,
            Self::Undelivered => SmsStatus::Undelivered,
            Self::Failed => SmsStatus::Failed,
            Self::Delivered => SmsStatus::Delivered,
            Self::Read => SmsStatus::Read,
            Self::PartiallyDelivered => SmsStatus::PartiallyDelivered,
            Self::Canceled => SmsStatus::Canceled,
            Self::Receiving => SmsStatus::Receiving,
            Self::Received => SmsStatus::Received,
        }
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name Twilio does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for MessageStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(status, _)| *status)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::MessageStatus::*;
    use super::*;

    #[test]
    fn statuses_move_forward_only() {
        assert!(Queued.advances_to(Sent));
        assert!(Sent.advances_to(Delivered));
        assert!(Sent.advances_to(Undelivered));
        assert!(Queued.advances_to(Failed));
        assert!(
            !Delivered.advances_to(Sent),
            "a late sent never overwrites delivered"
        );
        assert!(!Sent.advances_to(Queued));
        assert!(!Delivered.advances_to(Failed));
        assert!(!Failed.advances_to(Delivered));
        assert!(Delivered.advances_to(Read));
        assert!(!Sent.advances_to(Sent));
    }

    #[test]
    fn names_round_trip() {
        for (status, name) in MessageStatus::ALL {
            assert_eq!(name.parse::<MessageStatus>().unwrap(), status);
            assert_eq!(status.to_string(), name);
        }
        assert!("lost".parse::<MessageStatus>().is_err());
    }

    #[test]
    fn every_status_has_its_bus_value() {
        for (status, name) in MessageStatus::ALL {
            assert_eq!(
                status.to_bus().as_str_name(),
                format!("SMS_STATUS_{}", name.to_uppercase())
            );
        }
    }

    #[test]
    fn final_statuses() {
        for s in [
            Delivered,
            Undelivered,
            Failed,
            Read,
            Canceled,
            PartiallyDelivered,
        ] {
            assert!(s.is_final(), "{s}");
        }
        for s in [Accepted, Queued, Sending, Sent] {
            assert!(!s.is_final(), "{s}");
        }
    }
}
