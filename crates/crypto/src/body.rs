//! AES-256-GCM encryption of SMS bodies (`sms_messages`, `sms_outbound_jobs`).
//!
//! Each encryption uses the keyring's active key and a fresh random 96-bit nonce from the OS RNG.
//! The 16-byte GCM tag is split from the ciphertext so the parts map one to one onto the columns
//! `body_ciphertext`, `body_iv`, `body_tag` and `key_version`. The associated data binds the
//! ciphertext to its row (e.g. the Twilio message SID or the job's idempotency key): decrypting
//! with any other associated data fails authentication.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut as _, Nonce, Tag};
use secrecy::{SecretSlice, SecretString};
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::CryptoError;
use crate::keyring::Keyring;
use crate::random::fill_random;

/// Length of an AES-GCM nonce (`body_iv`) in bytes.
pub const NONCE_LEN: usize = 12;

/// Length of an AES-GCM authentication tag (`body_tag`) in bytes.
pub const TAG_LEN: usize = 16;

/// An encrypted message body, split the way the database stores it.
///
/// The ciphertext is not secret, so `Debug` is derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedBody {
    /// Version of the key that encrypted it (`key_version`).
    pub key_version: i32,
    /// The random 96-bit nonce (`body_iv`).
    pub nonce: [u8; NONCE_LEN],
    /// The ciphertext without the tag (`body_ciphertext`); as long as the plaintext.
    pub ciphertext: Vec<u8>,
    /// The GCM authentication tag (`body_tag`).
    pub tag: [u8; TAG_LEN],
}

impl EncryptedBody {
    /// Rebuilds an encrypted body from the stored columns, checking the nonce and tag lengths.
    ///
    /// # Errors
    /// [`CryptoError::MalformedNonce`] if `nonce` is not 12 bytes, [`CryptoError::MalformedTag`]
    /// if `tag` is not 16 bytes.
    pub fn from_parts(
        key_version: i32,
        nonce: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Self, CryptoError> {
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce)
            .map_err(|_| CryptoError::MalformedNonce { got: nonce.len() })?;
        let tag = <[u8; TAG_LEN]>::try_from(tag)
            .map_err(|_| CryptoError::MalformedTag { got: tag.len() })?;
        Ok(Self {
            key_version,
            nonce,
            ciphertext: ciphertext.to_vec(),
            tag,
        })
    }
}

/// A body as its row stores it: `body_iv`, `body_ciphertext` and `body_tag` are null once
/// retention or an account deletion purged it (`key_version` stays).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredBody {
    /// `key_version`.
    pub key_version: i32,
    /// `body_iv`.
    pub nonce: Option<Vec<u8>>,
    /// `body_ciphertext`.
    pub ciphertext: Option<Vec<u8>>,
    /// `body_tag`.
    pub tag: Option<Vec<u8>>,
}

impl StoredBody {
    /// Whether the body is gone (any of its columns is null).
    pub fn is_purged(&self) -> bool {
        self.nonce.is_none() || self.ciphertext.is_none() || self.tag.is_none()
    }
}

impl Keyring {
    /// Encrypts `plaintext` with the active key and a fresh random nonce, authenticating
    /// `associated_data` (which must be supplied again, unchanged, to decrypt).
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the OS RNG fails, [`CryptoError::EncryptionFailed`] if the input
    /// exceeds the GCM limits (64 GiB).
    pub fn encrypt(
        &self,
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<EncryptedBody, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        self.encrypt_with_nonce(nonce, plaintext, associated_data)
    }

    /// Encrypts a text body; see [`Keyring::encrypt`].
    ///
    /// # Errors
    /// As [`Keyring::encrypt`].
    pub fn encrypt_str(
        &self,
        plaintext: &str,
        associated_data: &[u8],
    ) -> Result<EncryptedBody, CryptoError> {
        self.encrypt(plaintext.as_bytes(), associated_data)
    }

    /// Encrypts with a caller-chosen nonce. Only for known-answer tests: reusing a nonce under
    /// the same key breaks GCM completely.
    pub(crate) fn encrypt_with_nonce(
        &self,
        nonce: [u8; NONCE_LEN],
        plaintext: &[u8],
        associated_data: &[u8],
    ) -> Result<EncryptedBody, CryptoError> {
        let cipher = self.active_cipher()?;
        let mut ciphertext = plaintext.to_vec();
        let tag = cipher
            .encrypt_inout_detached(
                &Nonce::<Aes256Gcm>::from(nonce),
                associated_data,
                ciphertext.as_mut_slice().into(),
            )
            .map_err(|_| CryptoError::EncryptionFailed)?;
        Ok(EncryptedBody {
            key_version: self.active_version(),
            nonce,
            ciphertext,
            tag: tag.into(),
        })
    }

    /// Decrypts a body with the key named by its `key_version`.
    ///
    /// The plaintext comes back as a [`SecretSlice`]: wiped on drop, redacted in `Debug`; read it
    /// with [`secrecy::ExposeSecret::expose_secret`].
    ///
    /// # Errors
    /// [`CryptoError::UnknownKeyVersion`] if the keyring lacks that version,
    /// [`CryptoError::AuthenticationFailed`] if anything was altered or the associated data
    /// differs.
    pub fn decrypt(
        &self,
        body: &EncryptedBody,
        associated_data: &[u8],
    ) -> Result<SecretSlice<u8>, CryptoError> {
        let cipher = self.cipher(body.key_version)?;
        let plaintext = open(cipher, body, associated_data)?;
        Ok(SecretSlice::from(plaintext))
    }

    /// Decrypts straight from the stored columns; see [`EncryptedBody::from_parts`] and
    /// [`Keyring::decrypt`].
    ///
    /// # Errors
    /// As [`EncryptedBody::from_parts`] and [`Keyring::decrypt`].
    pub fn decrypt_parts(
        &self,
        key_version: i32,
        nonce: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        associated_data: &[u8],
    ) -> Result<SecretSlice<u8>, CryptoError> {
        let body = EncryptedBody::from_parts(key_version, nonce, ciphertext, tag)?;
        self.decrypt(&body, associated_data)
    }

    /// Decrypts a text body; see [`Keyring::decrypt`].
    ///
    /// # Errors
    /// As [`Keyring::decrypt`], plus [`CryptoError::InvalidUtf8`] if the plaintext is not UTF-8.
    pub fn decrypt_to_string(
        &self,
        body: &EncryptedBody,
        associated_data: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let cipher = self.cipher(body.key_version)?;
        let plaintext = open(cipher, body, associated_data)?;
        match String::from_utf8(plaintext) {
            Ok(text) => Ok(SecretString::from(text)),
            Err(error) => {
                error.into_bytes().zeroize();
                Err(CryptoError::InvalidUtf8)
            }
        }
    }

    /// Decrypts a text body as its row stores it: `Ok(None)` when it was purged.
    ///
    /// # Errors
    /// As [`EncryptedBody::from_parts`] and [`Keyring::decrypt_to_string`].
    pub fn decrypt_stored(
        &self,
        stored: &StoredBody,
        associated_data: &[u8],
    ) -> Result<Option<SecretString>, CryptoError> {
        let (Some(nonce), Some(ciphertext), Some(tag)) =
            (&stored.nonce, &stored.ciphertext, &stored.tag)
        else {
            return Ok(None);
        };
        let body = EncryptedBody::from_parts(stored.key_version, nonce, ciphertext, tag)?;
        self.decrypt_to_string(&body, associated_data).map(Some)
    }

    /// Re-encrypts a body under the active key (for the rotation job). The plaintext never
    /// leaves this function and is wiped.
    ///
    /// # Errors
    /// As [`Keyring::decrypt`] and [`Keyring::encrypt`].
    pub fn reencrypt(
        &self,
        body: &EncryptedBody,
        associated_data: &[u8],
    ) -> Result<EncryptedBody, CryptoError> {
        let cipher = self.cipher(body.key_version)?;
        let plaintext = Zeroizing::new(open(cipher, body, associated_data)?);
        self.encrypt(&plaintext, associated_data)
    }
}

/// Authenticates and decrypts; the returned vector has capacity == length so converting it to a
/// boxed slice does not reallocate (and leave an unwiped copy behind).
fn open(
    cipher: &Aes256Gcm,
    body: &EncryptedBody,
    associated_data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut buffer = Zeroizing::new(body.ciphertext.clone());
    buffer.shrink_to_fit();
    cipher
        .decrypt_inout_detached(
            &Nonce::<Aes256Gcm>::from(body.nonce),
            associated_data,
            buffer.as_mut_slice().into(),
            &Tag::<Aes256Gcm>::from(body.tag),
        )
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(std::mem::take(&mut *buffer))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    /// Decodes hex test data.
    fn h(text: &str) -> Vec<u8> {
        hex::decode(text).unwrap()
    }

    /// McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV,
    /// with associated data); re-checked with Python `cryptography`'s AESGCM.
    #[test]
    fn gcm_spec_test_case_16() {
        let key = "/v/pkoZlcxxtao+UZzCDCP7/6ZKGZXMcbWqPlGcwgwg="; // feffe992...308308 twice
        let ring = Keyring::from_config(&format!("7:{key}"), "7").unwrap();
        let nonce = h("cafebabefacedbaddecaf888");
        let plaintext = h(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d",
            "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let ciphertext = h(concat!(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa",
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        ));
        let tag = h("76fc6ece0f4e1768cddf8853bb2d551b");

        let nonce_array = <[u8; NONCE_LEN]>::try_from(nonce.as_slice()).unwrap();
        let sealed = ring
            .encrypt_with_nonce(nonce_array, &plaintext, &aad)
            .unwrap();
        assert_eq!(sealed.key_version, 7);
        assert_eq!(sealed.ciphertext, ciphertext);
        assert_eq!(sealed.tag.as_slice(), tag.as_slice());

        let opened = ring
            .decrypt_parts(7, &nonce, &ciphertext, &tag, &aad)
            .unwrap();
        assert_eq!(opened.expose_secret(), plaintext.as_slice());
    }

    /// A JOSH-shaped vector (UTF-8 body, message SID as associated data) computed independently
    /// with Python `cryptography`: AESGCM(bytes(range(32))).encrypt(bytes(range(100, 112)), ...).
    #[test]
    fn independent_python_vector() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // bytes 0..32
        let ring = Keyring::from_config(&format!("1:{key}"), "1").unwrap();
        let nonce: Vec<u8> = (100..112).collect();
        let ciphertext = h("007ea74759aa39f858073ac889041ec262209e9fab0f92146478");
        let tag = h("672f78cd36605620cf95a8d7d249c929");
        let body = EncryptedBody::from_parts(1, &nonce, &ciphertext, &tag).unwrap();
        let text = ring
            .decrypt_to_string(&body, b"SM0123456789abcdef")
            .unwrap();
        assert_eq!(text.expose_secret(), "Hey! Coffee Sat? ☕ café");
    }
}
