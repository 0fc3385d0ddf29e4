//! Encoding and decoding bus messages.

use prost::Message;

use crate::error::ProtoError;
use crate::v1::Envelope;

/// Encodes any message to its protobuf bytes.
#[must_use]
pub fn encode<M: Message>(message: &M) -> Vec<u8> {
    message.encode_to_vec()
}

/// Decodes a message of type `M` from protobuf bytes.
///
/// # Errors
/// [`ProtoError::Decode`] if the bytes are not a valid encoding of `M`.
pub fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, ProtoError> {
    Ok(M::decode(bytes)?)
}

/// Validates an envelope (see [`Envelope::validate`]) and encodes it, so a malformed envelope
/// never reaches the bus.
///
/// # Errors
/// The [`Envelope::validate`] errors.
pub fn encode_envelope(envelope: &Envelope) -> Result<Vec<u8>, ProtoError> {
    envelope.validate()?;
    Ok(envelope.encode_to_vec())
}

/// Decodes an envelope and validates it (see [`Envelope::validate`]).
///
/// # Errors
/// [`ProtoError::Decode`] for bytes that are not an envelope, else the [`Envelope::validate`]
/// errors; [`ProtoError::UnknownType`] means a newer producer's payload this build does not know.
pub fn decode_envelope(bytes: &[u8]) -> Result<Envelope, ProtoError> {
    let envelope: Envelope = decode(bytes)?;
    envelope.validate()?;
    Ok(envelope)
}
