//! JOSH's event bus contracts (NATS JetStream), package `josh.events.v1`.
//!
//! Every bus message is one protobuf [`Envelope`]: headers (event id, type, schema version,
//! times, producer, correlation, causation, idempotency and partition keys) and exactly one
//! typed [`Payload`]. The `.proto` sources live in `proto/` at the workspace root; `build.rs`
//! compiles them with `protox` and `prost-build` (no system `protoc`), and the generated types are
//! re-exported as [`v1`].
//!
//! Hand-written helpers around the generated code:
//! - [`catalog`]: the one table of every payload: its dotted type name (`sms.received`), NATS
//!   subject (`josh.evt.sms.received`), event or command, and current schema version.
//! - [`envelope`]: building and validating envelopes.
//! - [`codec`]: encode/decode with a [`ProtoError`] on failure.
//! - [`body`]: [`EncryptedBody`] to and from its stored parts.
//! - [`timestamp`]: `google.protobuf.Timestamp` to and from [`time::OffsetDateTime`].
//!
//! `Debug` of [`v1::SmsReceived`] and [`v1::SendSms`] masks phone numbers (`redact`).

pub mod body;
pub mod catalog;
pub mod codec;
pub mod envelope;
pub mod error;
mod redact;
pub mod timestamp;

/// The generated protobuf types of package `josh.events.v1` (one Rust item per message and enum;
/// oneofs and nested types in a submodule named after their message, e.g. [`v1::envelope::Payload`]).
#[allow(
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rustdoc::all
)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/josh.events.v1.rs"));
}

pub use body::BodyParts;
pub use catalog::{CATALOG, MessageKind, PayloadInfo};
pub use codec::{decode, decode_envelope, encode, encode_envelope};
pub use error::ProtoError;
pub use v1::envelope::Payload;
pub use v1::{EncryptedBody, Envelope};

/// The protobuf package every contract here belongs to.
pub const PACKAGE: &str = "josh.events.v1";

/// The encoded `google.protobuf.FileDescriptorSet` of every `.proto` file in `proto/`, imports
/// included (self-contained), with source info (comments). For reflection-based tools, e.g.
/// printing a dead letter as JSON.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/josh_events_descriptor_set.bin"));

/// Decodes [`FILE_DESCRIPTOR_SET`].
///
/// # Errors
/// [`ProtoError::Decode`] if the embedded bytes do not decode (a build bug).
pub fn file_descriptor_set() -> Result<prost_types::FileDescriptorSet, ProtoError> {
    codec::decode(FILE_DESCRIPTOR_SET)
}
