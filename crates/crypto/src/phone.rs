//! Keyed phone hashes: `phone_hash` = lowercase hex HMAC-SHA256(`JOSH_PHONE_PEPPER`, E.164).

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};

use crate::error::CryptoError;
use crate::mac::HmacKey;

/// The secret pepper keying phone hashes. `Debug` is redacted; the secret cannot be read back.
#[derive(Clone)]
pub struct PhonePepper {
    key: HmacKey,
}

impl PhonePepper {
    /// Builds the pepper from its secret (`JOSH_PHONE_PEPPER`).
    ///
    /// # Errors
    /// [`CryptoError::EmptySecret`] if `pepper` is empty.
    pub fn new(pepper: &str) -> Result<Self, CryptoError> {
        let key = HmacKey::new(pepper.as_bytes(), "phone pepper")?;
        Ok(Self { key })
    }

    /// Builds the pepper from a [`SecretString`]; see [`PhonePepper::new`].
    ///
    /// # Errors
    /// As [`PhonePepper::new`].
    pub fn from_secret(pepper: &SecretString) -> Result<Self, CryptoError> {
        Self::new(pepper.expose_secret())
    }

    /// Lowercase hex HMAC-SHA256(pepper, `e164`). Hashes exactly what it is given: normalize and
    /// validate first (see [`normalize_e164`] or [`PhonePepper::hash_e164`]).
    #[must_use]
    pub fn hash(&self, e164: &str) -> String {
        self.key.hex(&[e164.as_bytes()])
    }

    /// Normalizes `raw` with [`normalize_e164`], then hashes it.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPhoneNumber`] if `raw` is not an E.164 number.
    pub fn hash_e164(&self, raw: &str) -> Result<String, CryptoError> {
        Ok(self.hash(&normalize_e164(raw)?))
    }
}

impl fmt::Debug for PhonePepper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhonePepper([REDACTED])")
    }
}

/// Checks the E.164 shape: `+`, then 8 to 15 ASCII digits, the first not zero. Nothing is trimmed.
///
/// # Errors
/// [`CryptoError::InvalidPhoneNumber`] with the reason (never the number).
pub fn validate_e164(e164: &str) -> Result<(), CryptoError> {
    let invalid = |reason| Err(CryptoError::InvalidPhoneNumber { reason });
    let Some(digits) = e164.strip_prefix('+') else {
        return invalid("must start with '+'");
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return invalid("only digits may follow '+'");
    }
    if !(8..=15).contains(&digits.len()) {
        return invalid("must have 8 to 15 digits after '+'");
    }
    if digits.starts_with('0') {
        return invalid("country code cannot start with 0");
    }
    Ok(())
}

/// Trims whitespace, drops common formatting characters (spaces, `-`, `.`, `(`, `)`) and
/// validates the result with [`validate_e164`]. Does not guess a missing country code.
///
/// # Errors
/// [`CryptoError::InvalidPhoneNumber`] if the result is not E.164.
pub fn normalize_e164(raw: &str) -> Result<String, CryptoError> {
    let normalized: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    validate_e164(&normalized)?;
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_independent_hmac_sha256() {
        // python3: hmac.new(b"pepper", b"+15551234567", hashlib.sha256).hexdigest()
        // (also `openssl dgst -sha256 -hmac pepper`).
        let pepper = PhonePepper::new("pepper").unwrap();
        assert_eq!(
            pepper.hash("+15551234567"),
            "ccf9b333d7a9d744ac15feac9e79b15a0f0d5a4195e3709b0d2352ea79d32ba4"
        );
        assert_eq!(
            pepper.hash_e164(" +1 (555) 123-4567 ").unwrap(),
            pepper.hash("+15551234567")
        );
        assert_ne!(
            PhonePepper::new("other").unwrap().hash("+15551234567"),
            pepper.hash("+15551234567")
        );
    }

    #[test]
    fn debug_is_redacted_and_empty_rejected() {
        let pepper = PhonePepper::new("s3cret-pepper-value").unwrap();
        let debug = format!("{pepper:?}");
        assert_eq!(debug, "PhonePepper([REDACTED])");
        assert!(!debug.contains("s3cret"));
        assert_eq!(
            PhonePepper::new("").unwrap_err(),
            CryptoError::EmptySecret {
                what: "phone pepper"
            }
        );
        let secret = SecretString::from("s3cret-pepper-value");
        assert_eq!(
            PhonePepper::from_secret(&secret).unwrap().hash("+1"),
            pepper.hash("+1")
        );
    }

    #[test]
    fn e164_shape() {
        for ok in [
            "+15551234567",
            "+4930123456",
            "+12345678",
            "+123456789012345",
        ] {
            assert_eq!(validate_e164(ok), Ok(()), "{ok}");
        }
        for bad in [
            "15551234567",
            "+1234567",
            "+1234567890123456",
            "+05551234567",
            "+1555123456a",
            "+1 5551234567",
            " +15551234567",
            "",
            "+",
            "+１５５５１２３４５６７",
        ] {
            assert!(validate_e164(bad).is_err(), "{bad}");
        }
        assert_eq!(
            normalize_e164(" +1 (555) 123-4567\n").unwrap(),
            "+15551234567"
        );
        assert_eq!(normalize_e164("+49.30.123456").unwrap(), "+4930123456");
        let err = normalize_e164("5551234567").unwrap_err();
        assert!(!err.to_string().contains("5551234567"));
    }
}
