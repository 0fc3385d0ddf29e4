//! Twilio's webhook requests: the raw `application/x-www-form-urlencoded` body as the ordered
//! list of parameters Twilio signed ([`FormParams`]), and typed views of the two webhooks JOSH
//! receives: an inbound message ([`InboundMessage`]) and a status callback ([`StatusCallback`]).
//!
//! Twilio adds parameters without notice, so every parameter is kept (and signed over), known or
//! not. A missing required parameter or a malformed known one is a [`WebhookError`] naming the
//! parameter, never echoing its value.
//!
//! Nothing here prints a message body or a full phone number: `Debug` of [`FormParams`] lists
//! parameter names only, and the typed structs mask phone numbers ([`MaskedPhone`]) and show a
//! body only by its length.
//!
//! ```
//! use twilio::webhook::{FormParams, InboundMessage};
//!
//! let body = b"MessageSid=SM1&AccountSid=AC1&From=%2B14155550100&To=%2B14155550199&Body=Hi+there&NumMedia=0";
//! let params = FormParams::parse(body);
//! // Validate the signature over `params.pairs()` first (see `twilio::signature`), then:
//! let message = InboundMessage::from_params(params)?;
//! assert_eq!(message.body, "Hi there");
//! assert_eq!(message.from.masked().to_string(), "+1********00");
//! # Ok::<(), twilio::webhook::WebhookError>(())
//! ```

mod inbound;
mod params;
mod phone;
mod status_callback;

pub use inbound::{Geo, InboundMessage, Media};
pub use params::{FormParams, WebhookError};
pub use phone::{MaskedPhone, Phone};
pub use status_callback::StatusCallback;

/// The media type Twilio posts webhooks with.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Whether a `Content-Type` header value is a form body (`application/x-www-form-urlencoded`,
/// case-insensitive, parameters such as `; charset=utf-8` allowed).
pub fn is_form_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(FORM_CONTENT_TYPE)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::signature;
    use crate::status::MessageStatus;

    // Request bodies and signatures from the provider fixtures in the project's shared spec
    // (`spec/providers/twilio_inbound_examples.json` and `twilio_status_callback_examples.json`):
    // the bodies follow Twilio's documentation, the signatures were computed by twilio-python
    // 9.13.0 `RequestValidator.compute_signature` with the made-up token below, so they check
    // our parsing and signing against an independent implementation.
    const TOKEN: &str = "0123456789abcdef0123456789abcdef";
    const INBOUND_URL: &str = "https://sms.example.com/webhooks/twilio/inbound";
    const STATUS_URL: &str = "https://sms.example.com/webhooks/twilio/status?msg=42";

    const SMS_BASIC: &str = "ToCountry=US&ToState=CA&SmsMessageSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&NumMedia=0&ToCity=SAUSALITO&FromZip=94103&SmsSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Ahoy%21+Let%27s+build+something+amazing.&FromCountry=US&To=%2B15558675310&ToZip=94965&NumSegments=1&MessageSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%2B14017122661&ApiVersion=2010-04-01";
    const SMS_BASIC_SIG: &str = "iypHp+K1bKxoDCFzfe2B3Vjbkgg=";

    const MMS_TWO_MEDIA: &str = "ToCountry=US&ToState=CA&SmsMessageSid=MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&NumMedia=2&ToCity=SAUSALITO&FromZip=94103&SmsSid=MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=&FromCountry=US&To=%2B15558675310&ToZip=94965&NumSegments=1&MessageSid=MMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%2B14017122661&ApiVersion=2010-04-01&MediaContentType0=image%2Fjpeg&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2FMessages%2FMMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2FMedia%2FMEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&MediaContentType1=image%2Fpng&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2FMessages%2FMMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%2FMedia%2FMEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const MMS_TWO_MEDIA_SIG: &str = "lI4qjkEZwpyXcA9byMB0uNL5bcQ=";

    const SMS_UNICODE: &str = "ToCountry=US&ToState=CA&SmsMessageSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&NumMedia=0&ToCity=SAUSALITO&FromZip=94103&SmsSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&FromState=CA&SmsStatus=received&FromCity=SAN+FRANCISCO&Body=Hola+%F0%9F%91%8B+%C2%BFC%C3%B3mo+est%C3%A1s%3F+Quiero+cambiar+mi+plan+a+Premium+%E2%9C%A8+por+favor%2C+y+tambi%C3%A9n+saber+el+saldo+%F0%9F%92%B3&FromCountry=US&To=%2B15558675310&ToZip=94965&NumSegments=2&MessageSid=SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%2B14017122661&ApiVersion=2010-04-01";
    const SMS_UNICODE_SIG: &str = "EpWB+gdgCKgNNE/UktbbsckrfvQ=";

    const OBSERVED_SMS: &str = "ToCountry=US&ToState=District+Of+Columbia&SmsMessageSid=SMe287d7109a5a925f182f0e07fe5b223b&NumMedia=0&ToCity=&FromZip=01022&SmsSid=SMe287d7109a5a925f182f0e07fe5b223b&FromState=MA&SmsStatus=received&FromCity=CHICOPEE&Body=Msg&FromCountry=US&To=%2B12028831111&ToZip=&NumSegments=1&MessageSid=SMe287d7109a5a925f182f0e07fe5b223b&AccountSid=acctid&From=%2B14133881111&ApiVersion=2010-04-01";
    const OBSERVED_SMS_SIG: &str = "v4JDMPLsfgvfdwepJH0E3csqW4o=";

    const UNDELIVERED: &str = "SmsSid=SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&SmsStatus=undelivered&MessageStatus=undelivered&To=%2B15558675310&MessagingServiceSid=MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&MessageSid=SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%2B15017122661&ApiVersion=2010-04-01&ErrorCode=30003&RawDlrDoneDate=2611221405";
    const UNDELIVERED_SIG: &str = "FDQVrq4r3FUo+/wy34Ervw3XDNE=";

    const DOCS_SENT_MINIMAL_NO_TO: &str = "SmsSid=SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&SmsStatus=sent&MessageStatus=sent&MessageSid=SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb&AccountSid=ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&From=%2B15017122661";

    const STATUS_INVALID: &str = "MessageSid=SMe287d7109a5a925f182f0e07fe5b223b&MessageStatus=huh";
    const STATUS_INVALID_SIG: &str = "JDjNT5WdHmWKp7x0CLY2Y353wDg=";

    #[test]
    fn signatures_of_the_fixtures_validate_over_the_parsed_params() {
        for (body, url, sig) in [
            (SMS_BASIC, INBOUND_URL, SMS_BASIC_SIG),
            (MMS_TWO_MEDIA, INBOUND_URL, MMS_TWO_MEDIA_SIG),
            (SMS_UNICODE, INBOUND_URL, SMS_UNICODE_SIG),
            (OBSERVED_SMS, INBOUND_URL, OBSERVED_SMS_SIG),
            (UNDELIVERED, STATUS_URL, UNDELIVERED_SIG),
            (STATUS_INVALID, STATUS_URL, STATUS_INVALID_SIG),
        ] {
            let params = FormParams::parse(body.as_bytes());
            assert_eq!(signature::sign(TOKEN, url, params.pairs()), sig, "{body}");
            assert!(signature::validate(TOKEN, url, params.pairs(), sig));
            // Any change to a value breaks it.
            let mut tampered = params.pairs().to_vec();
            tampered[0].1.push('x');
            assert!(!signature::validate(TOKEN, url, &tampered, sig));
        }
    }

    #[test]
    fn types_a_plain_sms() {
        let m = InboundMessage::parse(SMS_BASIC.as_bytes()).unwrap();
        assert_eq!(m.message_sid, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(
            m.sms_sid.as_deref(),
            Some("SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        );
        assert_eq!(m.account_sid, "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_eq!(m.from.as_str(), "+14017122661");
        assert_eq!(m.to.as_str(), "+15558675310");
        assert_eq!(m.body, "Ahoy! Let's build something amazing.");
        assert_eq!((m.num_media, m.num_segments), (0, 1));
        assert!(m.media.is_empty());
        assert_eq!(m.from_geo.city.as_deref(), Some("SAN FRANCISCO"));
        assert_eq!(m.to_geo.zip.as_deref(), Some("94965"));
        assert_eq!(m.api_version.as_deref(), Some("2010-04-01"));
        assert_eq!(m.sms_status.as_deref(), Some("received"));
        assert_eq!(m.messaging_service_sid, None);
        assert_eq!(m.params.len(), 19);
        assert_eq!(
            m.params.pairs()[0],
            ("ToCountry".to_owned(), "US".to_owned())
        );
    }

    #[test]
    fn types_media_and_unicode() {
        let m = InboundMessage::parse(MMS_TWO_MEDIA.as_bytes()).unwrap();
        assert_eq!(m.num_media, 2);
        assert_eq!(m.body, "");
        assert_eq!(m.media.len(), 2);
        assert_eq!(m.media[0].index, 0);
        assert_eq!(m.media[0].content_type.as_deref(), Some("image/jpeg"));
        assert!(
            m.media[1]
                .url
                .as_deref()
                .unwrap()
                .ends_with("MEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
        );

        let u = InboundMessage::parse(SMS_UNICODE.as_bytes()).unwrap();
        assert_eq!(u.num_segments, 2);
        assert!(u.body.starts_with("Hola 👋 ¿Cómo estás?"));

        // Empty geo values are absent in the typed view but kept in params (and signed).
        let o = InboundMessage::parse(OBSERVED_SMS.as_bytes()).unwrap();
        assert_eq!(o.to_geo.city, None);
        assert_eq!(o.params.get("ToCity"), Some(""));
    }

    #[test]
    fn unknown_parameters_are_kept() {
        let body = format!("{SMS_BASIC}&SomethingNew=42&OptOutType=STOP");
        let m = InboundMessage::parse(body.as_bytes()).unwrap();
        assert_eq!(m.params.get("SomethingNew"), Some("42"));
        assert_eq!(m.opt_out_type.as_deref(), Some("STOP"));
    }

    fn without(body: &str, name: &str) -> String {
        body.split('&')
            .filter(|p| !p.starts_with(&format!("{name}=")))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn missing_required_fields_are_named() {
        for field in ["MessageSid", "AccountSid", "From", "To"] {
            let err = InboundMessage::parse(without(SMS_BASIC, field).as_bytes()).unwrap_err();
            assert_eq!(err, WebhookError::Missing { field });
            assert_eq!(err.field(), field);
            assert!(err.to_string().contains(field));
        }
        // Empty counts as missing.
        let empty_from = SMS_BASIC.replace("From=%2B14017122661", "From=");
        assert_eq!(
            InboundMessage::parse(empty_from.as_bytes()).unwrap_err(),
            WebhookError::Missing { field: "From" }
        );
        // Absent counters take their defaults.
        let bare = without(&without(SMS_BASIC, "NumMedia"), "NumSegments");
        let m = InboundMessage::parse(bare.as_bytes()).unwrap();
        assert_eq!((m.num_media, m.num_segments), (0, 1));
    }

    #[test]
    fn malformed_fields_are_named_without_their_values() {
        for (from, to, field) in [
            ("NumMedia=0", "NumMedia=two", "NumMedia"),
            ("NumMedia=0", "NumMedia=-1", "NumMedia"),
            ("NumMedia=0", "NumMedia=99999999999", "NumMedia"),
            ("NumSegments=1", "NumSegments=1.5", "NumSegments"),
        ] {
            let body = SMS_BASIC.replace(from, to);
            let err = InboundMessage::parse(body.as_bytes()).unwrap_err();
            assert!(matches!(err, WebhookError::Malformed { .. }), "{err:?}");
            assert_eq!(err.field(), field);
        }
        let twice = format!("{SMS_BASIC}&From=%2B19999999999");
        let err = InboundMessage::parse(twice.as_bytes()).unwrap_err();
        assert_eq!(err, WebhookError::Repeated { field: "From" });
        assert!(!err.to_string().contains("999"));
        // The same value twice is not ambiguous.
        let same = format!("{SMS_BASIC}&From=%2B14017122661");
        assert!(InboundMessage::parse(same.as_bytes()).is_ok());
    }

    #[test]
    fn debug_masks_bodies_and_phone_numbers() {
        let m = InboundMessage::parse(SMS_BASIC.as_bytes()).unwrap();
        for text in [
            format!("{m:?}"),
            format!("{m:#?}"),
            format!("{:?}", m.params),
        ] {
            assert!(!text.contains("Ahoy"), "{text}");
            assert!(!text.contains("4017122661"), "{text}");
            assert!(!text.contains("5558675310"), "{text}");
        }
        assert!(format!("{m:?}").contains("+1********61"));
        assert!(format!("{m:?}").contains("<36 chars>"));
        let s = StatusCallback::parse(UNDELIVERED.as_bytes()).unwrap();
        let text = format!("{s:?}");
        assert!(
            !text.contains("5558675310") && !text.contains("5017122661"),
            "{text}"
        );
        assert_eq!(MaskedPhone("+15551234567").to_string(), "+1********67");
        assert_eq!(MaskedPhone("2021").to_string(), "****");
    }

    #[test]
    fn types_status_callbacks() {
        let s = StatusCallback::parse(UNDELIVERED.as_bytes()).unwrap();
        assert_eq!(s.message_sid, "SMbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
        assert_eq!(s.status, MessageStatus::Undelivered);
        assert_eq!(s.error_code, Some(30003));
        assert_eq!(s.to.as_ref().map(Phone::as_str), Some("+15558675310"));
        assert_eq!(s.raw_dlr_done_date.as_deref(), Some("2611221405"));
        assert_eq!(
            s.messaging_service_sid.as_deref(),
            Some("MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        );

        let minimal = StatusCallback::parse(DOCS_SENT_MINIMAL_NO_TO.as_bytes()).unwrap();
        assert_eq!(minimal.status, MessageStatus::Sent);
        assert_eq!((minimal.to, minimal.error_code), (None, None));
    }

    #[test]
    fn bad_status_callbacks_are_named() {
        assert_eq!(
            StatusCallback::parse(STATUS_INVALID.as_bytes()).unwrap_err(),
            WebhookError::Missing {
                field: "AccountSid"
            }
        );
        let unknown = format!("{STATUS_INVALID}&AccountSid=AC1");
        assert_eq!(
            StatusCallback::parse(unknown.as_bytes()).unwrap_err(),
            WebhookError::UnknownStatus {
                field: "MessageStatus"
            }
        );
        for field in ["MessageSid", "MessageStatus", "AccountSid"] {
            let err = StatusCallback::parse(without(UNDELIVERED, field).as_bytes()).unwrap_err();
            assert_eq!(err, WebhookError::Missing { field });
        }
        let bad_code = UNDELIVERED.replace("ErrorCode=30003", "ErrorCode=30003x");
        assert_eq!(
            StatusCallback::parse(bad_code.as_bytes())
                .unwrap_err()
                .field(),
            "ErrorCode"
        );
    }

    #[test]
    fn content_types() {
        assert!(is_form_content_type("application/x-www-form-urlencoded"));
        assert!(is_form_content_type(
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        ));
        assert!(!is_form_content_type("application/json"));
        assert!(!is_form_content_type("multipart/form-data; boundary=x"));
        assert!(!is_form_content_type(""));
    }

    #[test]
    fn bodies_round_trip_through_to_body() {
        let params = FormParams::parse(SMS_UNICODE.as_bytes());
        assert_eq!(FormParams::parse(params.to_body().as_bytes()), params);
        assert!(FormParams::parse(b"").is_empty());
    }
}
