//! `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, over the full request URL
//! followed by every POST parameter sorted by name (values of a repeated name sorted and
//! deduplicated, as Twilio's own libraries do), each as name then value with no separators.
//!
//! Twilio signs the URL it was configured with, which may or may not carry the default port, so
//! validation accepts both spellings as Twilio's own libraries do.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The header Twilio signs requests with.
pub const HEADER: &str = "X-Twilio-Signature";

/// The signature of a request to `url` with form `params`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is valid for a request to `url` with form `params`, comparing in
/// constant time and trying `url` with and without its scheme's default port.
pub fn validate(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    url_variants(url).iter().any(|candidate| {
        let expected = sign(auth_token, candidate, params);
        bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    })
}

/// `url` as given, plus the same URL with the default port added (if absent) or removed (if
/// present).
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, hp)) => (format!("{user}@"), hp),
        None => (String::new(), authority),
    };
    // A bracketed IPv6 host contains colons of its own.
    let port_sep = hostport
        .rfind(':')
        .filter(|&i| !hostport[i..].contains(']'));
    let other = match port_sep {
        Some(i) if &hostport[i + 1..] == default_port => hostport[..i].to_owned(),
        Some(_) => return variants,
        None => format!("{hostport}:{default_port}"),
    };
    variants.push(format!("{scheme}://{userinfo}{other}{tail}"));
    variants
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    // Twilio's published request-validation example (auth token "12345").
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    fn documented() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    #[test]
    fn matches_twilios_published_vector() {
        assert_eq!(
            sign("12345", URL, &documented()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(validate(
            "12345",
            URL,
            &documented(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn parameter_order_does_not_matter_and_repeated_values_are_sorted_once() {
        let mut shuffled = documented();
        shuffled.reverse();
        assert!(validate(
            "12345",
            URL,
            &shuffled,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let repeated = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            sign("12345", URL, &repeated),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn the_url_is_signed_as_given() {
        let mixed = "https://MyCompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign("12345", mixed, &documented()),
            "g9IN/x4Cft2g517EjYvEvM/W7LU="
        );
    }

    #[test]
    fn default_ports_are_accepted_either_way() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        let signed_with_port = sign("12345", with_port, &documented());
        assert!(validate("12345", URL, &documented(), &signed_with_port));
        assert!(validate(
            "12345",
            with_port,
            &documented(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // A non-default port is part of the URL and never dropped.
        let other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
        assert!(!validate(
            "12345",
            other_port,
            &documented(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert_eq!(
            url_variants("http://127.0.0.1/v1/twilio/sms"),
            [
                "http://127.0.0.1/v1/twilio/sms",
                "http://127.0.0.1:80/v1/twilio/sms"
            ]
        );
    }

    #[test]
    fn any_change_invalidates() {
        let sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!validate("54321", URL, &documented(), sig));
        assert!(!validate(
            "12345",
            &format!("{URL}&x=1"),
            &documented(),
            sig
        ));
        let mut tampered = documented();
        tampered[2].1 = "9999".to_owned();
        assert!(!validate("12345", URL, &tampered, sig));
        assert!(!validate("12345", URL, &documented(), ""));
        assert!(!validate("12345", URL, &documented(), "invalid 王"));
    }
}
