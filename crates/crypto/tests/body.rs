//! Body encryption: round trips, rotation and every failure mode.

#![allow(clippy::unwrap_used)] // shared test helpers: a panic is the failure report (see clippy.toml)

use crypto::{CryptoError, EncryptedBody, ExposeSecret as _, Keyring, StoredBody};

const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const K2: &str = "/v/pkoZlcxxtao+UZzCDCP7/6ZKGZXMcbWqPlGcwgwg=";
const AAD: &[u8] = b"SM00000000000000000000000000000001";

fn ring(keys: &str, active: &str) -> Keyring {
    Keyring::from_config(keys, active).unwrap()
}

fn sealed() -> (Keyring, EncryptedBody) {
    let ring = ring(&format!("1:{K1},2:{K2}"), "2");
    let body = ring.encrypt(b"see you at 7 at Blue Bottle", AAD).unwrap();
    (ring, body)
}

#[test]
fn round_trip_and_column_shapes() {
    let (ring, body) = sealed();
    assert_eq!(body.key_version, 2);
    assert_eq!(body.ciphertext.len(), b"see you at 7 at Blue Bottle".len());
    let plain = ring.decrypt(&body, AAD).unwrap();
    assert_eq!(plain.expose_secret(), b"see you at 7 at Blue Bottle");
    let again = ring
        .decrypt_parts(
            body.key_version,
            &body.nonce,
            &body.ciphertext,
            &body.tag,
            AAD,
        )
        .unwrap();
    assert_eq!(again.expose_secret(), plain.expose_secret());
    assert!(!format!("{plain:?}").contains("Blue Bottle"));
}

#[test]
fn string_helpers() {
    let (ring, _) = sealed();
    let body = ring.encrypt_str("Café ☕ at 10? 👍", AAD).unwrap();
    let text = ring.decrypt_to_string(&body, AAD).unwrap();
    assert_eq!(text.expose_secret(), "Café ☕ at 10? 👍");
    assert!(!format!("{text:?}").contains("Café"));
    let binary = ring.encrypt(&[0xff, 0xfe, 0x00], AAD).unwrap();
    assert_eq!(
        ring.decrypt_to_string(&binary, AAD).unwrap_err(),
        CryptoError::InvalidUtf8
    );
}

#[test]
fn same_body_encrypts_differently_each_time() {
    let (ring, a) = sealed();
    let b = ring.encrypt(b"see you at 7 at Blue Bottle", AAD).unwrap();
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(a.ciphertext, b.ciphertext);
    assert_ne!(a.tag, b.tag);
}

#[test]
fn rotation_keeps_old_rows_readable() {
    let old = ring(&format!("1:{K1}"), "1");
    let row = old.encrypt(b"written under key 1", AAD).unwrap();
    assert_eq!(row.key_version, 1);

    let rotated = ring(&format!("2:{K2},1:{K1}"), "2");
    let plain = rotated.decrypt(&row, AAD).unwrap();
    assert_eq!(plain.expose_secret(), b"written under key 1");
    assert_eq!(rotated.encrypt(b"new", AAD).unwrap().key_version, 2);

    let moved = rotated.reencrypt(&row, AAD).unwrap();
    assert_eq!(moved.key_version, 2);

    let retired = ring(&format!("2:{K2}"), "2");
    assert_eq!(
        retired.decrypt(&row, AAD).unwrap_err(),
        CryptoError::UnknownKeyVersion(1)
    );
    assert_eq!(
        retired.decrypt(&moved, AAD).unwrap().expose_secret(),
        b"written under key 1"
    );
    let message = CryptoError::UnknownKeyVersion(1).to_string();
    assert!(message.contains("version 1"), "{message}");
}

#[test]
fn tampering_fails_authentication() {
    let (ring, body) = sealed();
    let auth = Err(CryptoError::AuthenticationFailed);

    let mut c = body.clone();
    c.ciphertext[3] ^= 0x01;
    assert_eq!(ring.decrypt(&c, AAD).map(|_| ()), auth);

    let mut t = body.clone();
    t.tag[15] ^= 0x80;
    assert_eq!(ring.decrypt(&t, AAD).map(|_| ()), auth);

    let mut n = body.clone();
    n.nonce[0] ^= 0x01;
    assert_eq!(ring.decrypt(&n, AAD).map(|_| ()), auth);

    let mut truncated = body.clone();
    truncated.ciphertext.pop();
    assert_eq!(ring.decrypt(&truncated, AAD).map(|_| ()), auth);

    assert_eq!(ring.decrypt(&body, b"SM-other-row").map(|_| ()), auth);
    assert_eq!(ring.decrypt(&body, b"").map(|_| ()), auth);

    // Same version number but a different key behind it.
    let impostor = Keyring::from_config(&format!("2:{K1}"), "2").unwrap();
    assert_eq!(impostor.decrypt(&body, AAD).map(|_| ()), auth);
}

#[test]
fn malformed_stored_parts() {
    let (ring, body) = sealed();
    let (v, c) = (body.key_version, body.ciphertext.as_slice());
    assert_eq!(
        ring.decrypt_parts(v, &body.nonce[..11], c, &body.tag, AAD)
            .unwrap_err(),
        CryptoError::MalformedNonce { got: 11 }
    );
    assert_eq!(
        ring.decrypt_parts(v, &[0; 16], c, &body.tag, AAD)
            .unwrap_err(),
        CryptoError::MalformedNonce { got: 16 }
    );
    assert_eq!(
        ring.decrypt_parts(v, &body.nonce, c, &body.tag[..12], AAD)
            .unwrap_err(),
        CryptoError::MalformedTag { got: 12 }
    );
    assert_eq!(
        EncryptedBody::from_parts(v, &body.nonce, c, &[]).unwrap_err(),
        CryptoError::MalformedTag { got: 0 }
    );
    assert_eq!(
        ring.decrypt_parts(9, &body.nonce, c, &body.tag, AAD)
            .unwrap_err(),
        CryptoError::UnknownKeyVersion(9)
    );
}

#[test]
fn empty_body_round_trips() {
    let (ring, _) = sealed();
    let body = ring.encrypt(b"", b"").unwrap();
    assert!(body.ciphertext.is_empty());
    assert!(ring.decrypt(&body, b"").unwrap().expose_secret().is_empty());
    assert_eq!(
        ring.decrypt(&body, b"x").map(|_| ()),
        Err(CryptoError::AuthenticationFailed)
    );
}

#[test]
fn stored_columns_decrypt_or_report_a_purged_body() {
    let (ring, body) = sealed();
    let stored = StoredBody {
        key_version: body.key_version,
        nonce: Some(body.nonce.to_vec()),
        ciphertext: Some(body.ciphertext.clone()),
        tag: Some(body.tag.to_vec()),
    };
    assert!(!stored.is_purged());
    let text = ring.decrypt_stored(&stored, AAD).unwrap().unwrap();
    assert_eq!(text.expose_secret(), "see you at 7 at Blue Bottle");
    let purged = StoredBody {
        ciphertext: None,
        ..stored.clone()
    };
    assert!(purged.is_purged());
    assert!(ring.decrypt_stored(&purged, AAD).unwrap().is_none());
    let unknown = StoredBody {
        key_version: 9,
        ..stored.clone()
    };
    assert_eq!(
        ring.decrypt_stored(&unknown, AAD).unwrap_err(),
        CryptoError::UnknownKeyVersion(9)
    );
    assert_eq!(
        ring.decrypt_stored(&stored, b"SM2").unwrap_err(),
        CryptoError::AuthenticationFailed
    );
}
