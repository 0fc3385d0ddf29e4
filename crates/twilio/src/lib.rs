//! Twilio's contract as JOSH uses it, shared by inbound-sms (validating webhooks),
//! outbound-sender (sending and reading statuses), the local Twilio simulator and
//! `joshctl phone` (signing webhooks).
//!
//! - [`signature`]: `X-Twilio-Signature`, computed exactly as Twilio does.
//! - [`status`]: message statuses and the forward-only order they move in.
//! - [`errors`]: what JOSH does about each Twilio error code.
//! - [`segments`]: how many SMS segments a body costs (GSM-7 or UCS-2).

pub mod client;
pub mod errors;
pub mod segments;
pub mod signature;
pub mod status;
pub mod webhook;
