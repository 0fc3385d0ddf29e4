//! The payload catalog: the ONE place that lists every [`Payload`] variant with its dotted type
//! name, NATS subject, kind (event or command) and current schema version.
//!
//! The `payload_catalog!` table below generates [`CATALOG`], [`Payload::info`] (an exhaustive
//! `match`, so a oneof field added to `envelope.proto` without a row here does not compile),
//! `From<Message> for Payload` for every payload message, and [`example_payloads`]. A test
//! checks the table against the compiled descriptor of `Envelope.payload` as well.
//!
//! Naming: an event's type is `<domain>.<name>` and its subject `josh.evt.<domain>.<name>`;
//! a command's type is `<service>.<name>` and its subject `josh.cmd.<service>.<name>`.

use crate::v1;
use crate::v1::envelope::Payload;

/// Subject prefix of events (facts in the past tense, published by the data's owner).
pub const EVENT_SUBJECT_PREFIX: &str = "josh.evt";
/// Subject prefix of commands (asking one service to act).
pub const COMMAND_SUBJECT_PREFIX: &str = "josh.cmd";

/// Whether a payload is an event or a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A fact in the past tense, published by the owner of the data (`josh.evt.*`).
    Event,
    /// A request for one service to act (`josh.cmd.*`).
    Command,
}

impl MessageKind {
    /// `josh.evt` or `josh.cmd`.
    #[must_use]
    pub const fn subject_prefix(self) -> &'static str {
        match self {
            Self::Event => EVENT_SUBJECT_PREFIX,
            Self::Command => COMMAND_SUBJECT_PREFIX,
        }
    }

    /// `event` or `command`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Command => "command",
        }
    }
}

/// Catalog entry of one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayloadInfo {
    /// The protobuf message name, e.g. `SmsReceived` (also the [`Payload`] variant's name).
    pub message: &'static str,
    /// The fully qualified protobuf message name, e.g. `josh.events.v1.SmsReceived`.
    pub full_message_name: &'static str,
    /// The envelope `type`, e.g. `sms.received` or `outbound.send_sms`.
    pub type_name: &'static str,
    /// The NATS subject, e.g. `josh.evt.sms.received` or `josh.cmd.outbound.send_sms`.
    pub subject: &'static str,
    /// Event or command.
    pub kind: MessageKind,
    /// The payload's current schema version (the envelope's `schema_version`).
    pub schema_version: u32,
}

impl PayloadInfo {
    /// The domain of an event (`sms`, `identity`, `linkup`, `billing`, `safety`) or the service
    /// of a command (`outbound`): the type name before its first dot.
    #[must_use]
    pub fn domain(&self) -> &'static str {
        self.type_name
            .split_once('.')
            .map_or(self.type_name, |(domain, _)| domain)
    }

    /// The name within the domain, e.g. `received`: the type name after its first dot.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.type_name
            .split_once('.')
            .map_or(self.type_name, |(_, name)| name)
    }

    /// Whether this payload is an event.
    #[must_use]
    pub const fn is_event(&self) -> bool {
        matches!(self.kind, MessageKind::Event)
    }

    /// Whether this payload is a command.
    #[must_use]
    pub const fn is_command(&self) -> bool {
        matches!(self.kind, MessageKind::Command)
    }
}

/// `evt` / `cmd` to a [`MessageKind`].
macro_rules! kind {
    (evt) => {
        MessageKind::Event
    };
    (cmd) => {
        MessageKind::Command
    };
}

/// Builds the [`PayloadInfo`] of one catalog row.
macro_rules! info {
    ($variant:ident, $prefix:ident, $type_name:literal, $version:literal) => {
        PayloadInfo {
            message: stringify!($variant),
            full_message_name: concat!("josh.events.v1.", stringify!($variant)),
            type_name: $type_name,
            subject: concat!("josh.", stringify!($prefix), ".", $type_name),
            kind: kind!($prefix),
            schema_version: $version,
        }
    };
}

macro_rules! payload_catalog {
    ($( $variant:ident => ($prefix:ident, $type_name:literal, $version:literal), )+) => {
        /// Every payload, in `envelope.proto` order.
        pub const CATALOG: &[PayloadInfo] = &[ $( info!($variant, $prefix, $type_name, $version), )+ ];

        impl Payload {
            /// This payload's catalog entry.
            #[must_use]
            pub const fn info(&self) -> &'static PayloadInfo {
                match self {
                    $( Self::$variant(_) => {
                        const INFO: PayloadInfo = info!($variant, $prefix, $type_name, $version);
                        &INFO
                    } )+
                }
            }
        }

        $(
            impl From<v1::$variant> for Payload {
                fn from(message: v1::$variant) -> Self {
                    Self::$variant(message)
                }
            }
        )+

        /// One payload of every kind, each with default (empty) fields, in [`CATALOG`] order.
        /// For tests that must cover every payload.
        #[must_use]
        pub fn example_payloads() -> Vec<Payload> {
            vec![ $( Payload::$variant(v1::$variant::default()), )+ ]
        }
    };
}

payload_catalog! {
    // variant               kind  type name                       schema version
    SmsReceived          => (evt, "sms.received", 1),
    SmsStatusReported    => (evt, "sms.status_reported", 1),
    SmsStatusesReported  => (evt, "sms.statuses_reported", 1),
    SendSms              => (cmd, "outbound.send_sms", 1),
    SmsSent              => (evt, "sms.sent", 1),
    SmsSendFailed        => (evt, "sms.send_failed", 1),
    SmsSuppressed        => (evt, "sms.suppressed", 1),
    NumberMarkedUnusable => (evt, "sms.number_marked_unusable", 1),

    UserRegistered       => (evt, "identity.user_registered", 1),
    UserVerified         => (evt, "identity.user_verified", 1),
    UserOptedOut         => (evt, "identity.user_opted_out", 1),
    UserOptedIn          => (evt, "identity.user_opted_in", 1),
    ProfileUpdated       => (evt, "identity.profile_updated", 1),
    RegionOpened         => (evt, "identity.region_opened", 1),
    UserDeleted          => (evt, "identity.user_deleted", 1),

    LinkupRequested      => (evt, "linkup.requested", 1),
    LinkupCreated        => (evt, "linkup.created", 1),
    InviteSent           => (evt, "linkup.invite_sent", 1),
    InviteReplied        => (evt, "linkup.invite_replied", 1),
    InviteClosed         => (evt, "linkup.invite_closed", 1),
    LinkupLocked         => (evt, "linkup.locked", 1),
    LinkupExpired        => (evt, "linkup.expired", 1),
    LinkupCanceled       => (evt, "linkup.canceled", 1),
    ParticipantDropped   => (evt, "linkup.participant_dropped", 1),
    LinkupCompleted      => (evt, "linkup.completed", 1),
    ReminderDue          => (evt, "linkup.reminder_due", 1),
    OutcomeReported      => (evt, "linkup.outcome_reported", 1),
    ContactChoiceMade    => (evt, "linkup.contact_choice_made", 1),
    ContactExchanged     => (evt, "linkup.contact_exchanged", 1),
    LinkupRequestRefused => (evt, "linkup.request_refused", 1),
    CancelRequested      => (evt, "linkup.cancel_requested", 1),
    DropRequested        => (evt, "linkup.drop_requested", 1),
    NoShowRecorded       => (evt, "linkup.no_show_recorded", 1),

    EntitlementChanged   => (evt, "billing.entitlement_changed", 1),
    CheckoutCompleted    => (evt, "billing.checkout_completed", 1),

    SafetyHoldChanged    => (evt, "safety.hold_changed", 1),
    UserBlocked          => (evt, "safety.user_blocked", 1),
    ReportFiled          => (evt, "safety.report_filed", 1),
    StrikeRecorded       => (evt, "safety.strike_recorded", 1),
    IncidentOpened       => (evt, "safety.incident_opened", 1),
}

impl Payload {
    /// The dotted type name, e.g. `sms.received`.
    #[must_use]
    pub const fn type_name(&self) -> &'static str {
        self.info().type_name
    }

    /// The NATS subject, e.g. `josh.evt.sms.received`.
    #[must_use]
    pub const fn subject(&self) -> &'static str {
        self.info().subject
    }

    /// Event or command.
    #[must_use]
    pub const fn kind(&self) -> MessageKind {
        self.info().kind
    }

    /// The payload's current schema version.
    #[must_use]
    pub const fn schema_version(&self) -> u32 {
        self.info().schema_version
    }
}

/// The catalog entry with this dotted type name, e.g. `linkup.locked`.
#[must_use]
pub fn by_type_name(type_name: &str) -> Option<&'static PayloadInfo> {
    CATALOG.iter().find(|info| info.type_name == type_name)
}

/// The catalog entry published on this exact subject, e.g. `josh.evt.linkup.locked`.
#[must_use]
pub fn by_subject(subject: &str) -> Option<&'static PayloadInfo> {
    CATALOG.iter().find(|info| info.subject == subject)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    fn is_snake(part: &str) -> bool {
        !part.is_empty()
            && part.starts_with(|c: char| c.is_ascii_lowercase())
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn type_names_subjects_and_messages_are_unique() {
        let types: BTreeSet<_> = CATALOG.iter().map(|i| i.type_name).collect();
        let subjects: BTreeSet<_> = CATALOG.iter().map(|i| i.subject).collect();
        // The subject suffix after `josh.evt.` / `josh.cmd.`: what consumers filter on.
        let suffixes: BTreeSet<_> = CATALOG
            .iter()
            .map(|i| {
                i.subject
                    .strip_prefix(i.kind.subject_prefix())
                    .and_then(|rest| rest.strip_prefix('.'))
            })
            .collect();
        let messages: BTreeSet<_> = CATALOG.iter().map(|i| i.message).collect();
        assert_eq!(types.len(), CATALOG.len(), "duplicate type name");
        assert_eq!(subjects.len(), CATALOG.len(), "duplicate subject");
        assert_eq!(messages.len(), CATALOG.len(), "duplicate message");
        assert_eq!(suffixes.len(), CATALOG.len(), "duplicate subject suffix");
        assert!(
            !suffixes.contains(&None),
            "a subject lacks its kind's prefix"
        );
    }

    #[test]
    fn names_follow_the_subject_scheme() {
        let domains = ["sms", "identity", "linkup", "billing", "safety"];
        for info in CATALOG {
            let (domain, name) = info
                .type_name
                .split_once('.')
                .unwrap_or_else(|| panic!("{} has no dot", info.type_name));
            assert!(is_snake(domain) && is_snake(name), "{}", info.type_name);
            assert!(!name.contains('.'), "{}: one dot only", info.type_name);
            assert_eq!(info.domain(), domain);
            assert_eq!(info.name(), name);
            assert_eq!(
                info.subject,
                format!("{}.{}", info.kind.subject_prefix(), info.type_name)
            );
            assert_eq!(
                info.full_message_name,
                format!("{}.{}", crate::PACKAGE, info.message)
            );
            assert!(info.schema_version >= 1, "{}", info.type_name);
            match info.kind {
                MessageKind::Event => assert!(domains.contains(&domain), "{}", info.type_name),
                MessageKind::Command => assert_eq!(domain, "outbound", "{}", info.type_name),
            }
        }
    }

    #[test]
    fn send_sms_is_the_outbound_command_and_the_rest_are_events() {
        let commands: Vec<_> = CATALOG.iter().filter(|i| i.is_command()).collect();
        assert_eq!(commands.len(), 1);
        assert_eq!(commands[0].message, "SendSms");
        assert_eq!(commands[0].subject, "josh.cmd.outbound.send_sms");
        assert!(CATALOG.iter().filter(|i| i.is_event()).count() == CATALOG.len() - 1);

        let received = Payload::from(v1::SmsReceived::default());
        assert_eq!(received.type_name(), "sms.received");
        assert_eq!(received.subject(), "josh.evt.sms.received");
        assert_eq!(received.kind(), MessageKind::Event);
        assert_eq!(received.schema_version(), 1);
        assert_eq!(
            Payload::from(v1::LinkupLocked::default()).subject(),
            "josh.evt.linkup.locked"
        );
        assert_eq!(
            Payload::from(v1::EntitlementChanged::default()).subject(),
            "josh.evt.billing.entitlement_changed"
        );
    }

    #[test]
    fn example_payloads_follow_the_catalog() {
        let examples = example_payloads();
        assert_eq!(examples.len(), CATALOG.len());
        for (payload, info) in examples.iter().zip(CATALOG) {
            assert_eq!(payload.info(), info);
        }
    }

    #[test]
    fn lookups_find_every_entry_and_nothing_else() {
        for info in CATALOG {
            assert_eq!(by_type_name(info.type_name), Some(info));
            assert_eq!(by_subject(info.subject), Some(info));
        }
        assert_eq!(by_type_name("sms.nope"), None);
        assert_eq!(by_subject("sms.received"), None);
        assert_eq!(by_subject("josh.cmd.sms.received"), None);
    }

    /// The catalog against the compiled descriptor: every field of `Envelope.payload` has exactly
    /// one row naming its message, and every row a field.
    #[test]
    fn catalog_matches_the_envelope_oneof() {
        let fds = crate::file_descriptor_set().unwrap_or_else(|e| panic!("descriptor set: {e}"));
        let envelope = fds
            .file
            .iter()
            .filter(|f| f.package() == crate::PACKAGE)
            .flat_map(|f| &f.message_type)
            .find(|m| m.name() == "Envelope")
            .unwrap_or_else(|| panic!("no Envelope in the descriptor set"));
        let oneof_index = envelope
            .oneof_decl
            .iter()
            .position(|o| o.name() == "payload")
            .and_then(|i| i32::try_from(i).ok())
            .unwrap_or_else(|| panic!("Envelope has no payload oneof"));

        let mut from_descriptor = BTreeMap::new();
        for field in &envelope.field {
            if field.oneof_index == Some(oneof_index) {
                let message = field.type_name().trim_start_matches('.').to_owned();
                assert!(
                    from_descriptor
                        .insert(message.clone(), field.number())
                        .is_none(),
                    "{message} appears twice in the oneof"
                );
            } else {
                assert!(
                    field.number() < 100,
                    "header {} strays into payload numbers",
                    field.name()
                );
            }
        }
        let from_catalog: BTreeSet<String> = CATALOG
            .iter()
            .map(|i| i.full_message_name.to_owned())
            .collect();
        let descriptor_names: BTreeSet<String> = from_descriptor.keys().cloned().collect();
        assert_eq!(descriptor_names, from_catalog);
        assert_eq!(from_descriptor.len(), CATALOG.len());
    }
}
