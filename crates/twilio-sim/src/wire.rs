//! JSON bodies of the simulator-only API under `/sim/` (not part of Twilio's):
//!
//! | route | body | answer |
//! |---|---|---|
//! | `GET /sim/health` | | [`Health`] |
//! | `POST /sim/phones/{number}/send` | [`PhoneSend`] | [`PhoneSent`] (502 [`SimError`] when JOSH is unreachable) |
//! | `GET /sim/phones/{number}/messages?after=I&wait=S` | | a list of [`InboxMessage`]: what the phone received after inbox index `I` (everything without `after`), waiting up to `S` seconds (at most 60) for a first one |
//! | `POST /sim/faults` | [`Faults`] | 204 |
//! | `POST /sim/messages/{sid}/status` | [`FireStatus`] | [`StatusFired`]: a signed status callback now |
//! | `GET /sim/messages` | | `{"outbound":[...],"inbound":[...]}` in the Messages API's resource shape |
//! | `GET /sim/outbound?after=I&limit=N` | | [`OutboundFeed`]: creates after index `I` (from the first without `after`), at most `N` (default 1000), with microsecond receipt times: a cheap feed for load harnesses |

use serde::{Deserialize, Serialize};

use crate::state::NumberBehavior;

/// `GET /sim/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// JOSH's number, when the simulator was told it.
    #[serde(default)]
    pub josh_number: Option<String>,
}

/// A simulated phone texts JOSH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSend {
    /// JOSH's number (the `To` of the webhook).
    pub to: String,
    /// The text.
    pub body: String,
    /// Set when JOSH's number belongs to a Messaging Service (`MessagingServiceSid` param).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
    /// Post the webhook again with this MessageSid (a Twilio retry or a duplicate delivery)
    /// instead of a new one; the message is recorded once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// The inbound webhook was delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneSent {
    /// The new message's SID.
    pub sid: String,
    /// The HTTP status JOSH answered the webhook with.
    pub webhook_status: u16,
    /// When JOSH's answer arrived, in microseconds since the Unix epoch (the simulator's clock).
    #[serde(default)]
    pub answered_at_us: i64,
}

/// `GET /sim/outbound`: messages created through the Messages API, in creation order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundFeed {
    /// How many messages were created in all: pass the last index seen as `after`.
    pub total: usize,
    /// The messages after `after`, oldest first.
    pub messages: Vec<OutboundRecord>,
}

/// One created message, as the load feed reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundRecord {
    /// Position in creation order, from 0.
    pub index: usize,
    /// The message SID.
    pub sid: String,
    /// The recipient.
    pub to: String,
    /// The text.
    pub body: String,
    /// When the create request was accepted, in microseconds since the Unix epoch.
    pub created_at_us: i64,
}

/// A message a phone received (a delivered outbound message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessage {
    /// Position in this phone's inbox, from 0: pass the last one seen as `after`.
    pub index: usize,
    /// The message SID.
    pub sid: String,
    /// The sender (`None` when sent through a Messaging Service without a From).
    pub from: Option<String>,
    /// The phone's number.
    pub to: String,
    /// The text.
    pub body: String,
    /// When it was created, RFC 2822.
    pub date_created: String,
}

/// Fault controls; every field is optional and only the ones present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// The next creates answer this error instead of accepting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_next_creates: Option<FailCreates>,
    /// How the carrier treats messages to some numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<NumberFault>,
    /// Hold every create answer back this long (0 to stop).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_delay_ms: Option<u64>,
    /// Run the automatic status lifecycle after creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_callbacks: Option<bool>,
    /// Let statuses move on but never post their callbacks (lost callbacks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_callbacks: Option<bool>,
}

/// `fail_next_creates`: `count` creates answer `http_status` with error `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailCreates {
    /// How many.
    pub count: usize,
    /// The HTTP status (e.g. 500, 503, 429).
    pub http_status: u16,
    /// The error body's `code` (`null` when absent).
    #[serde(default)]
    pub code: Option<u32>,
}

/// One number's carrier behavior: `{"number": "+1...", "behavior": "opted_out"}` or
/// `{"behavior": {"unreachable": 30005}}`, `{"behavior": {"fail": 30034}}`, `"deliver"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberFault {
    /// The recipient number.
    pub number: String,
    /// What happens to messages sent to it.
    pub behavior: NumberBehavior,
}

/// Fire a status callback for a message now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FireStatus {
    /// A Twilio status name (`sent`, `delivered`, `undelivered`, `failed`...).
    pub status: String,
    /// `ErrorCode` for failed/undelivered.
    #[serde(default)]
    pub error_code: Option<u32>,
}

/// The callback was posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusFired {
    /// The HTTP status the callback receiver answered.
    pub callback_status: u16,
}

/// An error from the `/sim/` API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimError {
    /// What went wrong.
    pub error: String,
}
