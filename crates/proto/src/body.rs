//! [`EncryptedBody`] to and from its parts: the database columns `key_version`, `body_iv`,
//! `body_ciphertext` and `body_tag`, or the `crypto` crate's body type.

use crate::error::ProtoError;
use crate::v1::EncryptedBody;

/// Length of an AES-GCM nonce in bytes (96 bits).
pub const NONCE_LEN: usize = 12;

/// Length of an AES-GCM authentication tag in bytes (128 bits).
pub const TAG_LEN: usize = 16;

/// An encrypted body with its nonce and tag length-checked. Field for field the same as
/// `crypto::EncryptedBody`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyParts {
    /// Version of the key that encrypted it.
    pub key_version: i32,
    /// The AES-GCM nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The ciphertext without the tag.
    pub ciphertext: Vec<u8>,
    /// The AES-GCM tag.
    pub tag: [u8; TAG_LEN],
}

impl EncryptedBody {
    /// Builds a body from its parts without checking lengths (see [`BodyParts`] for a checked
    /// form).
    #[must_use]
    pub fn from_parts(
        key_version: i32,
        nonce: impl Into<Vec<u8>>,
        ciphertext: impl Into<Vec<u8>>,
        tag: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            key_version,
            nonce: nonce.into(),
            ciphertext: ciphertext.into(),
            tag: tag.into(),
        }
    }

    /// Splits the body into `(key_version, nonce, ciphertext, tag)`.
    #[must_use]
    pub fn into_parts(self) -> (i32, Vec<u8>, Vec<u8>, Vec<u8>) {
        (self.key_version, self.nonce, self.ciphertext, self.tag)
    }

    /// The body with its nonce and tag lengths checked.
    ///
    /// # Errors
    /// [`ProtoError::InvalidBodyPart`] if the nonce is not 12 bytes or the tag not 16.
    pub fn to_checked_parts(&self) -> Result<BodyParts, ProtoError> {
        let nonce = <[u8; NONCE_LEN]>::try_from(self.nonce.as_slice()).map_err(|_| {
            ProtoError::InvalidBodyPart {
                part: "nonce",
                expected: NONCE_LEN,
                actual: self.nonce.len(),
            }
        })?;
        let tag = <[u8; TAG_LEN]>::try_from(self.tag.as_slice()).map_err(|_| {
            ProtoError::InvalidBodyPart {
                part: "tag",
                expected: TAG_LEN,
                actual: self.tag.len(),
            }
        })?;
        Ok(BodyParts {
            key_version: self.key_version,
            nonce,
            ciphertext: self.ciphertext.clone(),
            tag,
        })
    }
}

impl From<BodyParts> for EncryptedBody {
    fn from(parts: BodyParts) -> Self {
        Self {
            key_version: parts.key_version,
            nonce: parts.nonce.to_vec(),
            ciphertext: parts.ciphertext,
            tag: parts.tag.to_vec(),
        }
    }
}

impl TryFrom<&EncryptedBody> for BodyParts {
    type Error = ProtoError;

    fn try_from(body: &EncryptedBody) -> Result<Self, ProtoError> {
        body.to_checked_parts()
    }
}

impl TryFrom<EncryptedBody> for BodyParts {
    type Error = ProtoError;

    fn try_from(body: EncryptedBody) -> Result<Self, ProtoError> {
        body.to_checked_parts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> BodyParts {
        BodyParts {
            key_version: 2,
            nonce: [7; NONCE_LEN],
            ciphertext: b"\x01\x02\x03".to_vec(),
            tag: [9; TAG_LEN],
        }
    }

    #[test]
    fn parts_round_trip() {
        let body = EncryptedBody::from(parts());
        assert_eq!(body.key_version, 2);
        assert_eq!(body.nonce, vec![7; NONCE_LEN]);
        assert_eq!(BodyParts::try_from(&body), Ok(parts()));
        let (version, nonce, ciphertext, tag) = body.clone().into_parts();
        assert_eq!(
            EncryptedBody::from_parts(version, nonce, ciphertext, tag),
            body
        );
        assert_eq!(BodyParts::try_from(body), Ok(parts()));
    }

    #[test]
    fn wrong_lengths_are_errors() {
        let short_nonce = EncryptedBody::from_parts(1, vec![0; 11], vec![], vec![0; TAG_LEN]);
        assert_eq!(
            short_nonce.to_checked_parts(),
            Err(ProtoError::InvalidBodyPart {
                part: "nonce",
                expected: NONCE_LEN,
                actual: 11
            })
        );
        let long_tag = EncryptedBody::from_parts(1, [0; NONCE_LEN], vec![], vec![0; 17]);
        assert_eq!(
            long_tag.to_checked_parts(),
            Err(ProtoError::InvalidBodyPart {
                part: "tag",
                expected: TAG_LEN,
                actual: 17
            })
        );
        // A retained-then-purged body (all parts empty) is not a valid body either.
        assert!(EncryptedBody::default().to_checked_parts().is_err());
    }
}
