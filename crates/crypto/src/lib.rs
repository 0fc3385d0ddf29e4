//! JOSH's cryptography.
//!
//! - [`Keyring`]: versioned AES-256-GCM keys from `JOSH_ENCRYPTION_KEYS` /
//!   `JOSH_ACTIVE_KEY_VERSION`, encrypting SMS bodies into [`EncryptedBody`] (the `body_iv`,
//!   `body_ciphertext`, `body_tag` and `key_version` columns).
//! - [`PhonePepper`]: `phone_hash` = hex HMAC-SHA256(pepper, E.164); [`normalize_e164`],
//!   [`validate_e164`].
//! - [`OtpKey`], [`generate_otp`]: 6-digit codes stored only as keyed hashes.
//! - [`MagicLinkToken`]: 32 random bytes, only the SHA-256 stored.
//!
//! Secrets are wiped on drop and redacted in `Debug`; errors never contain key material.
//! Decrypted bodies come back as [`secrecy`] types: read them with [`ExposeSecret`].
//!
//! ```
//! use crypto::{ExposeSecret as _, Keyring};
//!
//! # fn main() -> Result<(), crypto::CryptoError> {
//! let keys = format!("1:{}", Keyring::generate_key_base64()?);
//! let ring = Keyring::from_config(&keys, "1")?;
//! let row = ring.encrypt_str("Coffee at 10?", b"SM123")?; // bind to the message SID
//! let body = ring.decrypt_to_string(&row, b"SM123")?;
//! assert_eq!(body.expose_secret(), "Coffee at 10?");
//! # Ok(())
//! # }
//! ```

mod body;
mod error;
mod keyring;
mod mac;
mod magic_link;
mod otp;
mod phone;
mod random;

pub use body::{EncryptedBody, NONCE_LEN, StoredBody, TAG_LEN};
pub use error::CryptoError;
pub use keyring::{KEY_LEN, Keyring};
pub use magic_link::{
    MAGIC_LINK_TOKEN_BYTES, MagicLinkToken, hash_magic_link_token, verify_magic_link_token,
};
pub use otp::{OTP_DIGITS, OtpCode, OtpKey, generate_otp};
pub use phone::{PhonePepper, normalize_e164, validate_e164};
pub use secrecy::{ExposeSecret, SecretSlice, SecretString};
