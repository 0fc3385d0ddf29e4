//! `Stripe-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...][,v0=...]`, the HMAC keyed
//! with the endpoint's signing secret over `"{t}.{raw body}"`. Every `v1` value is tried (Stripe
//! sends one per active secret while a secret is being rolled); other schemes are ignored. The
//! timestamp must lie within the tolerance of now, in both directions.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

/// The header Stripe signs webhooks with.
pub const HEADER: &str = "Stripe-Signature";
/// How far the signed timestamp may be from now (Stripe's libraries default to 300 s).
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a signature was refused (each is answered 400 and logged with [`SignatureError::reason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    Missing,
    /// No parsable `t=` or no `v1=` element.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// The timestamp lies outside the tolerance.
    #[error("timestamp outside the tolerance")]
    Timestamp,
    /// No `v1` matches.
    #[error("no v1 signature matches")]
    Mismatch,
}

impl SignatureError {
    /// A short, stable reason for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "signature_missing",
            Self::Malformed => "signature_malformed",
            Self::Timestamp => "timestamp_out_of_tolerance",
            Self::Mismatch => "signature_mismatch",
        }
    }
}

/// The hex `v1` signature of `payload` signed at `timestamp` with `secret`.
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, payload).finalize().into_bytes())
}

/// A complete header value for `payload` signed now by `secret`.
pub fn header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, payload))
}

/// Verifies `header` for the raw `payload` against `secret` at `now`.
///
/// # Errors
/// [`SignatureError`] naming the first check that failed.
pub fn verify(
    secret: &str,
    header: Option<&str>,
    payload: &[u8],
    now: OffsetDateTime,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let parsed = Parsed::parse(header)?;
    if (now.unix_timestamp() - parsed.timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Timestamp);
    }
    let expected = mac(secret, parsed.timestamp, payload)
        .finalize()
        .into_bytes();
    let mut matched = subtle::Choice::from(0);
    for candidate in &parsed.v1 {
        // Compare every candidate (no early exit), each in constant time.
        matched |= candidate.as_slice().ct_eq(expected.as_slice());
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

struct Parsed {
    timestamp: i64,
    v1: Vec<Vec<u8>>,
}

impl Parsed {
    fn parse(header: &str) -> Result<Self, SignatureError> {
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for element in header.split(',') {
            let Some((key, value)) = element.trim().split_once('=') else {
                continue;
            };
            match key {
                "t" => timestamp = value.parse::<i64>().ok(),
                // A v1 that is not hex can never match; keep looking at the others.
                "v1" => v1.extend(hex::decode(value).ok()),
                _ => {}
            }
        }
        match timestamp {
            Some(timestamp) if !v1.is_empty() => Ok(Self { timestamp, v1 }),
            _ => Err(SignatureError::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_made_here_verifies_and_a_changed_body_does_not() {
        let now =
            OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap_or_else(|_| unreachable!());
        let h = header("whsec_x", 1_700_000_000, b"{}");
        assert_eq!(verify("whsec_x", Some(&h), b"{}", now), Ok(()));
        assert_eq!(
            verify("whsec_x", Some(&h), b"{ }", now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn headers_without_t_or_v1_are_malformed() {
        let now = OffsetDateTime::now_utc();
        for h in ["", "t=abc,v1=00", "v1=00", "t=1", "t=1,v0=00"] {
            assert_eq!(
                verify("s", Some(h), b"", now),
                Err(SignatureError::Malformed),
                "{h}"
            );
        }
        assert_eq!(verify("s", None, b"", now), Err(SignatureError::Missing));
    }
}
