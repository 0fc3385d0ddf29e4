//! The versioned AES-256-GCM keyring built from `JOSH_ENCRYPTION_KEYS` / `JOSH_ACTIVE_KEY_VERSION`.
//!
//! Encryption always uses the active key; decryption uses the version stored with the row. Key
//! bytes are turned into AES-GCM cipher states right away and the decoded bytes are wiped; the
//! cipher states are wiped on drop (the `zeroize` feature of `aes-gcm`). Nothing here prints,
//! serializes or returns key material.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Key, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::CryptoError;
use crate::random::fill_random;

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;

/// A set of AES-256-GCM keys indexed by version, one of them active.
///
/// `Debug` shows only the versions and the active one, e.g.
/// `Keyring { versions: [1, 2], active: 2 }`.
#[derive(Clone)]
pub struct Keyring {
    ciphers: BTreeMap<i32, Aes256Gcm>,
    active: i32,
}

impl Keyring {
    /// Builds a keyring from the config strings.
    ///
    /// `keys` is `JOSH_ENCRYPTION_KEYS`: comma-separated `<version>:<standard padded base64 of 32
    /// bytes>` entries, whitespace around entries and around the `:` tolerated. `active_version` is
    /// `JOSH_ACTIVE_KEY_VERSION`. Versions are positive integers that fit an i32 (the Postgres
    /// `key_version int` column).
    ///
    /// # Errors
    /// [`CryptoError::EmptyConfig`], [`CryptoError::MalformedEntry`],
    /// [`CryptoError::InvalidKeyVersion`], [`CryptoError::InvalidKeyBase64`],
    /// [`CryptoError::InvalidKeyLength`], [`CryptoError::DuplicateKeyVersion`],
    /// [`CryptoError::InvalidActiveVersion`] or [`CryptoError::ActiveVersionMissing`]. No error
    /// message contains key material.
    pub fn from_config(keys: &str, active_version: &str) -> Result<Self, CryptoError> {
        if keys.trim().is_empty() {
            return Err(CryptoError::EmptyConfig);
        }
        let mut ciphers = BTreeMap::new();
        for (index, entry) in keys.split(',').enumerate() {
            let (version, cipher) = parse_entry(index + 1, entry)?;
            if ciphers.insert(version, cipher).is_some() {
                return Err(CryptoError::DuplicateKeyVersion { version });
            }
        }
        let active =
            parse_version(active_version.trim()).ok_or(CryptoError::InvalidActiveVersion)?;
        if !ciphers.contains_key(&active) {
            return Err(CryptoError::ActiveVersionMissing { version: active });
        }
        Ok(Self { ciphers, active })
    }

    /// Generates a fresh random 32-byte key from the OS RNG, rendered as standard padded base64,
    /// ready to be added to `JOSH_ENCRYPTION_KEYS` (ops and dev tooling).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the OS random number generator fails.
    pub fn generate_key_base64() -> Result<String, CryptoError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(key.as_mut_slice())?;
        Ok(STANDARD.encode(key.as_slice()))
    }

    /// The version new data is encrypted with.
    #[must_use]
    pub fn active_version(&self) -> i32 {
        self.active
    }

    /// All versions in the keyring, ascending.
    #[must_use]
    pub fn versions(&self) -> Vec<i32> {
        self.ciphers.keys().copied().collect()
    }

    /// Whether the keyring holds a key with this version.
    #[must_use]
    pub fn contains(&self, version: i32) -> bool {
        self.ciphers.contains_key(&version)
    }

    /// The cipher for the active key.
    pub(crate) fn active_cipher(&self) -> Result<&Aes256Gcm, CryptoError> {
        self.cipher(self.active)
    }

    /// The cipher for `version`, or [`CryptoError::UnknownKeyVersion`].
    pub(crate) fn cipher(&self, version: i32) -> Result<&Aes256Gcm, CryptoError> {
        self.ciphers
            .get(&version)
            .ok_or(CryptoError::UnknownKeyVersion(version))
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("versions", &self.versions())
            .field("active", &self.active)
            .finish()
    }
}

/// Parses one `<version>:<base64 key>` entry (1-based position `entry`).
fn parse_entry(entry: usize, text: &str) -> Result<(i32, Aes256Gcm), CryptoError> {
    let (version_text, key_text) = text
        .trim()
        .split_once(':')
        .ok_or(CryptoError::MalformedEntry { entry })?;
    let version =
        parse_version(version_text.trim()).ok_or(CryptoError::InvalidKeyVersion { entry })?;
    let decoded = Zeroizing::new(
        STANDARD
            .decode(key_text.trim())
            .map_err(|_| CryptoError::InvalidKeyBase64 { version })?,
    );
    if decoded.len() != KEY_LEN {
        return Err(CryptoError::InvalidKeyLength {
            version,
            got: decoded.len(),
        });
    }
    // Borrow the wiped-on-drop buffer as a key instead of copying it into an unwiped array.
    let key = <&Key<Aes256Gcm>>::try_from(decoded.as_slice()).map_err(|_| {
        CryptoError::InvalidKeyLength {
            version,
            got: decoded.len(),
        }
    })?;
    Ok((version, Aes256Gcm::new(key)))
}

/// Parses a positive decimal i32 made of ASCII digits only (no sign, no spaces).
fn parse_version(text: &str) -> Option<i32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>().ok().filter(|v| *v > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "/v/pkoZlcxxtao+UZzCDCP7/6ZKGZXMcbWqPlGcwgwg=";

    fn config() -> String {
        format!("2:{K2},1:{K1}")
    }

    #[test]
    fn parses_keys_and_active_version() {
        let ring = Keyring::from_config(&format!("  2 : {K2} ,\n 1:{K1}  "), " 2 ").unwrap();
        assert_eq!(ring.versions(), vec![1, 2]);
        assert_eq!(ring.active_version(), 2);
        assert!(ring.contains(1) && !ring.contains(3));
    }

    #[test]
    fn debug_shows_versions_only() {
        let ring = Keyring::from_config(&config(), "2").unwrap();
        let debug = format!("{ring:?}");
        assert_eq!(debug, "Keyring { versions: [1, 2], active: 2 }");
        assert!(!debug.contains(K1) && !debug.contains(K2));
        assert!(!format!("{ring:#?}").contains(K2));
    }

    fn err(keys: &str, active: &str) -> CryptoError {
        Keyring::from_config(keys, active).unwrap_err()
    }

    #[test]
    fn config_errors() {
        assert_eq!(err("", "1"), CryptoError::EmptyConfig);
        assert_eq!(err("  \n ", "1"), CryptoError::EmptyConfig);
        assert_eq!(err(K1, "1"), CryptoError::MalformedEntry { entry: 1 });
        assert_eq!(
            err(&format!("1:{K1},,"), "1"),
            CryptoError::MalformedEntry { entry: 2 }
        );
        assert_eq!(
            err(&format!("x:{K1}"), "1"),
            CryptoError::InvalidKeyVersion { entry: 1 }
        );
        assert_eq!(
            err(&format!("0:{K1}"), "1"),
            CryptoError::InvalidKeyVersion { entry: 1 }
        );
        assert_eq!(
            err(&format!("-1:{K1}"), "1"),
            CryptoError::InvalidKeyVersion { entry: 1 }
        );
        assert_eq!(
            err(&format!("+1:{K1}"), "1"),
            CryptoError::InvalidKeyVersion { entry: 1 }
        );
        assert_eq!(
            err(&format!(":{K1}"), "1"),
            CryptoError::InvalidKeyVersion { entry: 1 }
        );
        let too_big = format!("1:{K1},2147483648:{K2}");
        assert_eq!(
            err(&too_big, "1"),
            CryptoError::InvalidKeyVersion { entry: 2 }
        );
        assert_eq!(
            err("1:not base64!", "1"),
            CryptoError::InvalidKeyBase64 { version: 1 }
        );
        let unpadded = K1.trim_end_matches('=');
        assert_eq!(
            err(&format!("1:{unpadded}"), "1"),
            CryptoError::InvalidKeyBase64 { version: 1 }
        );
        assert_eq!(
            err("3:AAAA", "3"),
            CryptoError::InvalidKeyLength { version: 3, got: 3 }
        );
        assert_eq!(
            err("3:", "3"),
            CryptoError::InvalidKeyLength { version: 3, got: 0 }
        );
        let dup = format!("1:{K1},2:{K2},1:{K2}");
        assert_eq!(
            err(&dup, "2"),
            CryptoError::DuplicateKeyVersion { version: 1 }
        );
        assert_eq!(
            err(&config(), "3"),
            CryptoError::ActiveVersionMissing { version: 3 }
        );
        for bad in ["", "two", "0", "-2", "2.0", "99999999999"] {
            assert_eq!(
                err(&config(), bad),
                CryptoError::InvalidActiveVersion,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn error_messages_never_echo_key_material() {
        let cases = [
            err(&format!("{K1}:2"), "2"),
            err(K2, "2"),
            err(&format!("1:{}", &K1[..20]), "1"),
            err(&format!("1:{K1}x"), "1"),
            err(&config(), K1),
        ];
        for case in cases {
            let text = format!("{case} / {case:?}");
            assert!(
                !text.contains(&K1[..12]) && !text.contains(&K2[..12]),
                "{text}"
            );
        }
    }

    #[test]
    fn generated_keys_load() {
        let a = Keyring::generate_key_base64().unwrap();
        let b = Keyring::generate_key_base64().unwrap();
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(&a).unwrap().len(), KEY_LEN);
        let ring = Keyring::from_config(&format!("1:{a},2:{b}"), "1").unwrap();
        assert_eq!(ring.active_version(), 1);
    }
}
