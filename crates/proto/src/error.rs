//! The crate's error type.

/// What can go wrong decoding or validating a bus message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtoError {
    /// The bytes are not a valid protobuf encoding of the expected message.
    #[error("protobuf decode failed: {0}")]
    Decode(#[from] prost::DecodeError),

    /// The envelope carries no payload although its type is known or empty (a producer bug or a
    /// truncated message).
    #[error("envelope has no payload (type {type_name:?})")]
    MissingPayload {
        /// The envelope's `type` header.
        type_name: String,
    },

    /// The envelope's type is not in this build's catalog and its payload did not decode into a
    /// known variant: a newer producer's payload. Consumers may acknowledge and skip it.
    #[error("unknown envelope type {type_name:?}")]
    UnknownType {
        /// The envelope's `type` header.
        type_name: String,
    },

    /// The envelope's `type` header does not name the payload it carries.
    #[error("envelope type {declared:?} does not match its payload, which is {actual:?}")]
    TypeMismatch {
        /// The envelope's `type` header.
        declared: String,
        /// The type name of the payload actually carried.
        actual: &'static str,
    },

    /// A required envelope header is empty or zero.
    #[error("envelope header {0} is missing")]
    MissingField(&'static str),

    /// A part of an [`EncryptedBody`](crate::EncryptedBody) has the wrong length.
    #[error("encrypted body {part} must be {expected} bytes, got {actual}")]
    InvalidBodyPart {
        /// `nonce` or `tag`.
        part: &'static str,
        /// The length AES-256-GCM requires.
        expected: usize,
        /// The length received.
        actual: usize,
    },

    /// A timestamp is outside the range [`time::OffsetDateTime`] can represent.
    #[error("timestamp out of range: {seconds}s {nanos}ns")]
    TimestampOutOfRange {
        /// Seconds since the Unix epoch.
        seconds: i64,
        /// Nanoseconds within the second.
        nanos: i32,
    },
}
