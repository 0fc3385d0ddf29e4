//! Property tests: arbitrary bodies round-trip and are bound to their associated data.

#![allow(clippy::unwrap_used)] // shared test helpers: a panic is the failure report (see clippy.toml)

use crypto::{CryptoError, ExposeSecret as _, Keyring};
use proptest::collection::vec;
use proptest::prelude::*;

fn ring() -> Keyring {
    Keyring::from_config(
        "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=,\
         2:/v/pkoZlcxxtao+UZzCDCP7/6ZKGZXMcbWqPlGcwgwg=",
        "2",
    )
    .unwrap()
}

/// Bodies from empty to 64 KiB, weighted toward SMS-sized ones.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), 0..400),
        1 => vec(any::<u8>(), 0..=64 * 1024),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn bytes_round_trip_and_bind_associated_data(
        plaintext in body(),
        aad in vec(any::<u8>(), 0..64),
        other_aad in vec(any::<u8>(), 0..64),
    ) {
        let ring = ring();
        let sealed = ring.encrypt(&plaintext, &aad).unwrap();
        prop_assert_eq!(sealed.ciphertext.len(), plaintext.len());
        let opened = ring.decrypt(&sealed, &aad).unwrap();
        prop_assert_eq!(opened.expose_secret(), plaintext.as_slice());
        if other_aad != aad {
            prop_assert_eq!(
                ring.decrypt(&sealed, &other_aad).map(|_| ()),
                Err(CryptoError::AuthenticationFailed)
            );
        }
    }

    #[test]
    fn unicode_strings_round_trip(text in ".{0,300}", sid in "SM[0-9a-f]{32}") {
        let ring = ring();
        let sealed = ring.encrypt_str(&text, sid.as_bytes()).unwrap();
        let opened = ring.decrypt_to_string(&sealed, sid.as_bytes()).unwrap();
        prop_assert_eq!(opened.expose_secret(), text.as_str());
        let wrong = format!("{sid}x");
        prop_assert_eq!(
            ring.decrypt_to_string(&sealed, wrong.as_bytes()).map(|_| ()),
            Err(CryptoError::AuthenticationFailed)
        );
    }

    #[test]
    fn non_ascii_strings_round_trip(text in "(?s).{0,100}[^\\x00-\\x7F].{0,100}") {
        let ring = ring();
        let sealed = ring.encrypt_str(&text, b"aad").unwrap();
        prop_assert!(!text.is_ascii());
        let opened = ring.decrypt_to_string(&sealed, b"aad").unwrap();
        prop_assert_eq!(opened.expose_secret(), text.as_str());
    }
}
