//! One-time codes: 6 random digits, stored only as a keyed hash bound to their session.
//!
//! `otp_hash` = lowercase hex HMAC-SHA256(`OtpKey`, binding ‖ `:` ‖ code), where the binding is
//! e.g. the `otp_sessions.id` or the phone hash, so a stored hash is useless for any other
//! session. The code is always the last 6 characters, so the message is unambiguous even if the
//! binding contains `:`.

use std::fmt;

use rand::RngExt as _;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::mac::{HmacKey, ct_eq_str};

/// Number of digits in a one-time code.
pub const OTP_DIGITS: usize = 6;

/// Separator between the binding and the code in the hashed message.
const SEPARATOR: &[u8] = b":";

/// A one-time code: exactly 6 ASCII digits. Wiped on drop; `Debug` is redacted.
pub struct OtpCode(Zeroizing<String>);

impl OtpCode {
    /// Parses a code typed by a user: surrounding whitespace is trimmed, then it must be exactly
    /// 6 ASCII digits.
    ///
    /// # Errors
    /// [`CryptoError::InvalidOtpFormat`] otherwise.
    pub fn parse(candidate: &str) -> Result<Self, CryptoError> {
        let trimmed = candidate.trim();
        if trimmed.len() != OTP_DIGITS || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CryptoError::InvalidOtpFormat);
        }
        Ok(Self(Zeroizing::new(trimmed.to_owned())))
    }

    /// The code, to put in the SMS.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode([REDACTED])")
    }
}

/// Generates a uniformly random 6-digit code (zero-padded) from the thread-local CSPRNG
/// (ChaCha, seeded and periodically reseeded from the OS).
///
/// # Panics
/// Only if the OS random number generator is unavailable when the thread-local generator is
/// first seeded (rand's `ThreadRng` behaviour).
#[must_use]
pub fn generate_otp() -> OtpCode {
    let value: u32 = rand::rng().random_range(0..1_000_000);
    OtpCode(Zeroizing::new(format!("{value:06}")))
}

/// The secret keying OTP hashes. `Debug` is redacted; the secret cannot be read back.
#[derive(Clone)]
pub struct OtpKey {
    key: HmacKey,
}

impl OtpKey {
    /// Builds the key from its secret.
    ///
    /// # Errors
    /// [`CryptoError::EmptySecret`] if `secret` is empty.
    pub fn new(secret: &str) -> Result<Self, CryptoError> {
        let key = HmacKey::new(secret.as_bytes(), "OTP key")?;
        Ok(Self { key })
    }

    /// Builds the key from a [`SecretString`]; see [`OtpKey::new`].
    ///
    /// # Errors
    /// As [`OtpKey::new`].
    pub fn from_secret(secret: &SecretString) -> Result<Self, CryptoError> {
        Self::new(secret.expose_secret())
    }

    /// The value to store in `otp_sessions.otp_hash`: lowercase hex
    /// HMAC-SHA256(key, `binding` ‖ `:` ‖ code).
    #[must_use]
    pub fn hash(&self, code: &OtpCode, binding: &str) -> String {
        self.key
            .hex(&[binding.as_bytes(), SEPARATOR, code.as_str().as_bytes()])
    }

    /// Whether `candidate` (as typed; whitespace trimmed) is the code whose hash for `binding`
    /// is `stored_hash`. Anything that is not exactly 6 digits is rejected without comparing;
    /// the comparison itself is constant-time. Attempt limits and expiry are the caller's job.
    #[must_use]
    pub fn verify(&self, candidate: &str, binding: &str, stored_hash: &str) -> bool {
        match OtpCode::parse(candidate) {
            Ok(code) => ct_eq_str(&self.hash(&code, binding), stored_hash),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for OtpKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> OtpKey {
        OtpKey::new("otp-key").unwrap()
    }

    #[test]
    fn codes_are_six_digits() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let code = generate_otp();
            assert_eq!(code.as_str().len(), OTP_DIGITS);
            assert!(code.as_str().bytes().all(|b| b.is_ascii_digit()));
            seen.insert(code.as_str().to_owned());
        }
        assert!(seen.len() > 490, "codes should rarely repeat");
    }

    #[test]
    fn hash_matches_independent_hmac() {
        // python3: hmac.new(b"otp-key", b"session-123:042917", hashlib.sha256).hexdigest()
        let code = OtpCode::parse("042917").unwrap();
        assert_eq!(
            key().hash(&code, "session-123"),
            "dd2bc2eb0da735c2bcf57b41283fd3e74e8b7369e949297a2d3a8ea50dabedc2"
        );
    }

    #[test]
    fn verify_accepts_only_the_right_code_for_the_binding() {
        let key = key();
        let code = generate_otp();
        let stored = key.hash(&code, "session-1");
        assert!(key.verify(code.as_str(), "session-1", &stored));
        assert!(key.verify(&format!("  {}\n", code.as_str()), "session-1", &stored));
        assert!(!key.verify(code.as_str(), "session-2", &stored));
        assert_ne!(stored, key.hash(&code, "session-2"));
        let wrong = format!(
            "{:06}",
            (code.as_str().parse::<u32>().unwrap() + 1) % 1_000_000
        );
        assert!(!key.verify(&wrong, "session-1", &stored));
        assert!(
            !OtpKey::new("other")
                .unwrap()
                .verify(code.as_str(), "session-1", &stored)
        );
        assert!(!key.verify(code.as_str(), "session-1", &stored.to_uppercase()));
        assert!(!key.verify(code.as_str(), "session-1", ""));
    }

    #[test]
    fn malformed_candidates_are_rejected() {
        let key = key();
        let code = OtpCode::parse("123456").unwrap();
        let stored = key.hash(&code, "s");
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "12 456",
            "",
            "١٢٣٤٥٦",
            "+12345",
            "0x1234",
        ] {
            assert!(!key.verify(bad, "s", &stored), "{bad:?}");
            assert_eq!(
                OtpCode::parse(bad).unwrap_err(),
                CryptoError::InvalidOtpFormat
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        let code = OtpCode::parse("987654").unwrap();
        assert_eq!(format!("{code:?}"), "OtpCode([REDACTED])");
        let key = OtpKey::new("super-secret-otp-key").unwrap();
        let debug = format!("{key:?} {key:#?}");
        assert!(!debug.contains("super-secret"));
        assert_eq!(format!("{key:?}"), "OtpKey([REDACTED])");
        assert_eq!(
            OtpKey::new("").unwrap_err(),
            CryptoError::EmptySecret { what: "OTP key" }
        );
    }
}
