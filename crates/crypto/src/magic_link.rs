//! Magic-link tokens: 32 random bytes in URL-safe unpadded base64; only the SHA-256 is stored.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::mac::ct_eq_str;
use crate::random::fill_random;

/// Number of random bytes in a token.
pub const MAGIC_LINK_TOKEN_BYTES: usize = 32;

/// A freshly generated magic-link token (43 URL-safe characters). Wiped on drop; `Debug` is
/// redacted. Put [`MagicLinkToken::as_str`] in the link and store [`MagicLinkToken::hash`].
pub struct MagicLinkToken(Zeroizing<String>);

impl MagicLinkToken {
    /// Generates a token from 32 bytes of the OS random number generator.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the OS generator fails.
    pub fn generate() -> Result<Self, CryptoError> {
        let mut bytes = Zeroizing::new([0u8; MAGIC_LINK_TOKEN_BYTES]);
        fill_random(bytes.as_mut_slice())?;
        Ok(Self(Zeroizing::new(
            URL_SAFE_NO_PAD.encode(bytes.as_slice()),
        )))
    }

    /// The token text, to put in the link.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value for `magic_links.token_hash`; see [`hash_magic_link_token`].
    #[must_use]
    pub fn hash(&self) -> String {
        hash_magic_link_token(self.as_str())
    }

    /// Whether this token hashes to `stored_hash` (constant-time comparison).
    #[must_use]
    pub fn verify(&self, stored_hash: &str) -> bool {
        verify_magic_link_token(self.as_str(), stored_hash)
    }
}

impl fmt::Debug for MagicLinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MagicLinkToken([REDACTED])")
    }
}

/// Lowercase hex SHA-256 of the token text (what `magic_links.token_hash` stores). Hash the
/// token presented in a link with this and look the row up by it.
#[must_use]
pub fn hash_magic_link_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether a presented `token` hashes to `stored_hash` (constant-time comparison). Expiry and
/// one-time consumption are the caller's job.
#[must_use]
pub fn verify_magic_link_token(token: &str, stored_hash: &str) -> bool {
    ct_eq_str(&hash_magic_link_token(token), stored_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_chars_and_unique() {
        let a = MagicLinkToken::generate().unwrap();
        let b = MagicLinkToken::generate().unwrap();
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.as_str().len(), 43);
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(a.as_str()).unwrap().len(), 32);
    }

    #[test]
    fn hash_matches_independent_sha256() {
        // python3: hashlib.sha256(b"q2bKdGfQ9x_token").hexdigest()
        assert_eq!(
            hash_magic_link_token("q2bKdGfQ9x_token"),
            "99d08f94ab3a8e09cfe0e76fc2378a1204f2993698cea06ba46c5dc20fc0a3be"
        );
    }

    #[test]
    fn verify_and_debug() {
        let token = MagicLinkToken::generate().unwrap();
        let stored = token.hash();
        assert_eq!(stored.len(), 64);
        assert!(token.verify(&stored));
        assert!(verify_magic_link_token(token.as_str(), &stored));
        let other = MagicLinkToken::generate().unwrap();
        assert!(!other.verify(&stored));
        assert!(!verify_magic_link_token(&token.as_str()[1..], &stored));
        let debug = format!("{token:?} {token:#?}");
        assert!(!debug.contains(token.as_str()));
        assert_eq!(format!("{token:?}"), "MagicLinkToken([REDACTED])");
    }
}
