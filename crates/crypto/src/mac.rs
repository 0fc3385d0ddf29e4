//! Shared keyed-hash and comparison helpers.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::error::CryptoError;

/// An HMAC-SHA256 keyed with a secret. The key schedule is precomputed once; the state is wiped
/// on drop (the `zeroize` features of `hmac`/`sha2`). `Debug` is redacted.
#[derive(Clone)]
pub(crate) struct HmacKey {
    mac: Hmac<Sha256>,
}

impl HmacKey {
    /// Keys an HMAC with `secret`, refusing an empty one (`what` names it in the error).
    pub(crate) fn new(secret: &[u8], what: &'static str) -> Result<Self, CryptoError> {
        if secret.is_empty() {
            return Err(CryptoError::EmptySecret { what });
        }
        // HMAC accepts keys of any length; the error branch cannot happen but is handled anyway.
        let mac = Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|_| CryptoError::EmptySecret { what })?;
        Ok(Self { mac })
    }

    /// Lowercase hex HMAC-SHA256 over the concatenation of `parts`.
    pub(crate) fn hex(&self, parts: &[&[u8]]) -> String {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Compares two strings in time independent of their contents (lengths are not secret).
pub(crate) fn ct_eq_str(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}
