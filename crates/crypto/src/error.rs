//! The crate's error type.
//!
//! No variant ever carries key material, secrets, plaintext or phone numbers: configuration errors
//! name the position of the offending entry (and, once it has been parsed, its version) instead
//! of echoing the text, because a misplaced key (e.g. `<key>:2`) would otherwise end up in logs.

use thiserror::Error;

/// Everything that can go wrong in this crate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// `JOSH_ENCRYPTION_KEYS` is empty or only whitespace.
    #[error("encryption key config is empty: expected \"<version>:<base64 32-byte key>,...\"")]
    EmptyConfig,

    /// An entry of the key config is empty or has no `:` between version and key.
    #[error(
        "encryption key config entry #{entry} is malformed: expected \"<version>:<base64 key>\""
    )]
    MalformedEntry {
        /// 1-based position of the entry in the comma-separated list.
        entry: usize,
    },

    /// The version of an entry is not a positive integer that fits a Postgres `int` (i32).
    #[error(
        "encryption key config entry #{entry} has an invalid version: expected a positive integer up to {max}",
        max = i32::MAX
    )]
    InvalidKeyVersion {
        /// 1-based position of the entry in the comma-separated list.
        entry: usize,
    },

    /// The key of an entry is not valid standard (padded) base64.
    #[error("encryption key for version {version} is not valid standard base64 (with padding)")]
    InvalidKeyBase64 {
        /// The version whose key failed to decode.
        version: i32,
    },

    /// The key of an entry does not decode to exactly 32 bytes.
    #[error(
        "encryption key for version {version} decodes to {got} bytes; AES-256 needs exactly 32"
    )]
    InvalidKeyLength {
        /// The version whose key has the wrong length.
        version: i32,
        /// The decoded length in bytes.
        got: usize,
    },

    /// The same version appears twice in the key config.
    #[error("encryption key version {version} appears more than once in the key config")]
    DuplicateKeyVersion {
        /// The duplicated version.
        version: i32,
    },

    /// `JOSH_ACTIVE_KEY_VERSION` is not a positive integer that fits i32.
    #[error("active key version is not a positive integer up to {max}", max = i32::MAX)]
    InvalidActiveVersion,

    /// `JOSH_ACTIVE_KEY_VERSION` names a version that the keyring does not contain.
    #[error("active key version {version} is not in the keyring")]
    ActiveVersionMissing {
        /// The configured active version.
        version: i32,
    },

    /// A stored row names a key version the keyring does not hold (retired or never loaded).
    #[error("no encryption key with version {0} in the keyring (retired or not configured?)")]
    UnknownKeyVersion(i32),

    /// AES-GCM authentication failed: the ciphertext, tag or nonce was altered, or the associated
    /// data differs from the one used to encrypt. GCM cannot tell these cases apart.
    #[error(
        "message body failed authentication: ciphertext, tag or nonce altered, or wrong associated data"
    )]
    AuthenticationFailed,

    /// A stored nonce (`body_iv`) is not 12 bytes.
    #[error("stored nonce is {got} bytes; AES-GCM nonces are 12 bytes")]
    MalformedNonce {
        /// The stored length in bytes.
        got: usize,
    },

    /// A stored tag (`body_tag`) is not 16 bytes.
    #[error("stored authentication tag is {got} bytes; AES-GCM tags are 16 bytes")]
    MalformedTag {
        /// The stored length in bytes.
        got: usize,
    },

    /// Encryption refused the input (the plaintext or associated data exceeds the GCM limits).
    #[error("message body too large to encrypt with AES-GCM")]
    EncryptionFailed,

    /// A decrypted body was expected to be text but is not valid UTF-8.
    #[error("decrypted message body is not valid UTF-8")]
    InvalidUtf8,

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,

    /// A phone number is not in E.164 shape (`+`, then 8 to 15 digits, the first not zero).
    #[error("phone number is not E.164: {reason}")]
    InvalidPhoneNumber {
        /// What is wrong with it (never the number itself).
        reason: &'static str,
    },

    /// A secret (phone pepper, OTP key) was empty.
    #[error("{what} must not be empty")]
    EmptySecret {
        /// Which secret was empty.
        what: &'static str,
    },

    /// A one-time code is not exactly 6 ASCII digits.
    #[error("one-time code must be exactly 6 digits")]
    InvalidOtpFormat,
}
