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

use std::collections::BTreeMap;
use std::fmt;

use crate::status::MessageStatus;

/// The media type Twilio posts webhooks with.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Whether a `Content-Type` header value is a form body (`application/x-www-form-urlencoded`,
/// case-insensitive, parameters such as `; charset=utf-8` allowed).
pub fn is_form_content_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case(FORM_CONTENT_TYPE)
}

/// Every parameter of a form body, in the order received, names and values URL-decoded
/// (`+` and `%XX`, UTF-8) exactly as Twilio signs them. Empty values are kept.
///
/// `Debug` shows parameter names only: values may be message bodies or phone numbers.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
}

impl FormParams {
    /// Decodes a raw form body. Never fails: bytes that are not UTF-8 after decoding become
    /// U+FFFD (and such a request then fails signature validation, as it should).
    pub fn parse(body: &[u8]) -> Self {
        let pairs = form_urlencoded::parse(body)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        Self { pairs }
    }

    /// Wraps already decoded pairs (e.g. to sign a request being built).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The `(name, value)` pairs in the order received: what [`crate::signature::validate`]
    /// takes.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of the first parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of parameter `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The number of parameters (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the body had no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Re-encodes the parameters as a form body (for clients and simulators).
    pub fn to_body(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }

    /// The single value of a known parameter: `None` when absent, an error when it is repeated
    /// with different values (an ambiguous request is refused rather than guessed at).
    fn single(&self, field: &'static str) -> Result<Option<&str>, WebhookError> {
        let mut values = self.get_all(field);
        let first = values.next();
        if let Some(first) = first
            && values.any(|other| other != first)
        {
            return Err(WebhookError::Repeated { field });
        }
        Ok(first)
    }

    /// A known optional parameter; an empty value counts as absent.
    fn optional(&self, field: &'static str) -> Result<Option<String>, WebhookError> {
        Ok(self
            .single(field)?
            .filter(|v| !v.is_empty())
            .map(str::to_owned))
    }

    /// A known required parameter; an empty value counts as missing.
    fn required(&self, field: &'static str) -> Result<String, WebhookError> {
        self.optional(field)?.ok_or(WebhookError::Missing { field })
    }

    /// A known optional whole-number parameter.
    fn number<T: std::str::FromStr>(&self, field: &'static str) -> Result<Option<T>, WebhookError> {
        match self.optional(field)? {
            None => Ok(None),
            Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => text
                .parse::<T>()
                .map(Some)
                .map_err(|_| WebhookError::Malformed {
                    field,
                    expected: "a whole number in range",
                }),
            Some(_) => Err(WebhookError::Malformed {
                field,
                expected: "a whole number",
            }),
        }
    }
}

impl fmt::Debug for FormParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormParams")
            .field(
                "names",
                &self.pairs.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why a webhook body is not a usable request. Names the parameter; never holds its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A required parameter is absent or empty.
    #[error("missing required parameter {field}")]
    Missing {
        /// The parameter name, e.g. `From`.
        field: &'static str,
    },
    /// A known parameter has a value of the wrong shape.
    #[error("parameter {field} is malformed: expected {expected}")]
    Malformed {
        /// The parameter name, e.g. `NumMedia`.
        field: &'static str,
        /// What it should look like.
        expected: &'static str,
    },
    /// A single-valued parameter appears more than once with different values.
    #[error("parameter {field} is repeated with different values")]
    Repeated {
        /// The parameter name.
        field: &'static str,
    },
    /// `MessageStatus` is not a status Twilio defines (as far as this build knows).
    #[error("parameter {field} is not a known message status")]
    UnknownStatus {
        /// Always `MessageStatus`.
        field: &'static str,
    },
}

impl WebhookError {
    /// The parameter at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Missing { field }
            | Self::Malformed { field, .. }
            | Self::Repeated { field }
            | Self::UnknownStatus { field } => field,
        }
    }
}

/// A phone number (or channel address) shown with all but its first two and last two characters
/// masked, e.g. `+1*******00`; four characters or fewer are masked entirely.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MaskedPhone<'a>(pub &'a str);

impl fmt::Display for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.chars().count();
        for (i, c) in self.0.chars().enumerate() {
            let shown = count > 4 && (i < 2 || i + 2 >= count);
            if shown {
                fmt::Write::write_char(f, c)?;
            } else {
                f.write_str("*")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for MaskedPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A phone number or channel address as Twilio sent it (`+14155550100`, `whatsapp:+1...`, or a
/// short code). `Debug` masks it; read it with [`Phone::as_str`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// The number as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes it into the number as sent.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The masked form, for logs.
    pub fn masked(&self) -> MaskedPhone<'_> {
        MaskedPhone(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.masked(), f)
    }
}

/// Where Twilio's geo lookup places a number (`FromCity`, `FromState`, `FromZip`,
/// `FromCountry`, or the `To*` ones). Each is `None` when absent or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Geo {
    /// `*City`.
    pub city: Option<String>,
    /// `*State` (state or province).
    pub state: Option<String>,
    /// `*Zip` (postal code).
    pub zip: Option<String>,
    /// `*Country` (ISO code).
    pub country: Option<String>,
}

/// One media item of an MMS: `MediaUrl{N}` and `MediaContentType{N}` (zero-based `N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The zero-based `N`.
    pub index: u32,
    /// `MediaUrl{N}`.
    pub url: Option<String>,
    /// `MediaContentType{N}`.
    pub content_type: Option<String>,
}

/// Twilio's request to the incoming-message webhook.
///
/// Required: `MessageSid`, `AccountSid`, `From`, `To` (present and non-empty). `NumMedia` and
/// `NumSegments` must be whole numbers when present (absent: 0 media, 1 segment). Everything
/// else is optional, and every parameter, known or not, stays in [`InboundMessage::params`].
#[derive(Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// `MessageSid` (`SM...` for SMS, `MM...` for MMS).
    pub message_sid: String,
    /// `SmsSid` (deprecated duplicate of `MessageSid`).
    pub sms_sid: Option<String>,
    /// `SmsMessageSid` (deprecated duplicate of `MessageSid`).
    pub sms_message_sid: Option<String>,
    /// `AccountSid`.
    pub account_sid: String,
    /// `MessagingServiceSid`, when the number belongs to a Messaging Service.
    pub messaging_service_sid: Option<String>,
    /// `From`: the sender.
    pub from: Phone,
    /// `To`: the JOSH number that received it.
    pub to: Phone,
    /// `Body`: the text, empty when absent (media-only messages).
    pub body: String,
    /// `NumMedia` (0 when absent).
    pub num_media: u32,
    /// `NumSegments` (1 when absent).
    pub num_segments: u32,
    /// `MediaUrl{N}` / `MediaContentType{N}`, by index.
    pub media: Vec<Media>,
    /// `FromCity`, `FromState`, `FromZip`, `FromCountry`.
    pub from_geo: Geo,
    /// `ToCity`, `ToState`, `ToZip`, `ToCountry`.
    pub to_geo: Geo,
    /// `SmsStatus` (`received`).
    pub sms_status: Option<String>,
    /// `ApiVersion` (`2010-04-01`).
    pub api_version: Option<String>,
    /// `OptOutType` (`STOP`, `START`, `HELP`) with Advanced Opt-Out.
    pub opt_out_type: Option<String>,
    /// Every parameter as received, in order (what the signature covers).
    pub params: FormParams,
}

impl InboundMessage {
    /// Decodes and types a raw form body; see [`InboundMessage::from_params`].
    ///
    /// # Errors
    /// As [`InboundMessage::from_params`].
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        Self::from_params(FormParams::parse(body))
    }

    /// Types the parameters of an inbound-message webhook.
    ///
    /// # Errors
    /// [`WebhookError::Missing`] for an absent or empty `MessageSid`, `AccountSid`, `From` or
    /// `To`; [`WebhookError::Malformed`] for a `NumMedia`, `NumSegments` or media index that is
    /// not a whole number; [`WebhookError::Repeated`] for a known parameter sent twice with
    /// different values.
    pub fn from_params(params: FormParams) -> Result<Self, WebhookError> {
        let message_sid = params.required("MessageSid")?;
        let account_sid = params.required("AccountSid")?;
        let from = Phone(params.required("From")?);
        let to = Phone(params.required("To")?);
        let body = params.single("Body")?.unwrap_or_default().to_owned();
        let num_media = params.number::<u16>("NumMedia")?.map_or(0, u32::from);
        let num_segments = params.number::<u16>("NumSegments")?.map_or(1, u32::from);
        let media = media_of(&params)?;
        Ok(Self {
            sms_sid: params.optional("SmsSid")?,
            sms_message_sid: params.optional("SmsMessageSid")?,
            messaging_service_sid: params.optional("MessagingServiceSid")?,
            from_geo: geo(&params, ["FromCity", "FromState", "FromZip", "FromCountry"])?,
            to_geo: geo(&params, ["ToCity", "ToState", "ToZip", "ToCountry"])?,
            sms_status: params.optional("SmsStatus")?,
            api_version: params.optional("ApiVersion")?,
            opt_out_type: params.optional("OptOutType")?,
            message_sid,
            account_sid,
            from,
            to,
            body,
            num_media,
            num_segments,
            media,
            params,
        })
    }
}

impl fmt::Debug for InboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboundMessage")
            .field("message_sid", &self.message_sid)
            .field("account_sid", &self.account_sid)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("body", &BodyLength(&self.body))
            .field("num_media", &self.num_media)
            .field("num_segments", &self.num_segments)
            .field("media", &self.media.len())
            .field("opt_out_type", &self.opt_out_type)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Shows a body by its length only.
struct BodyLength<'a>(&'a str);

impl fmt::Debug for BodyLength<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} chars>", self.0.chars().count())
    }
}

/// Twilio's request to a message's `StatusCallback` URL.
///
/// Required: `MessageSid`, `AccountSid`, `MessageStatus` (one of [`MessageStatus`]).
/// `ErrorCode` must be a whole number when present. `From` and `To` are optional (Twilio's own
/// documented example omits `To`). Every parameter stays in [`StatusCallback::params`].
#[derive(Clone, PartialEq, Eq)]
pub struct StatusCallback {
    /// `MessageSid` of the outbound message.
    pub message_sid: String,
    /// `SmsSid` (deprecated duplicate).
    pub sms_sid: Option<String>,
    /// `AccountSid`.
    pub account_sid: String,
    /// `MessageStatus`.
    pub status: MessageStatus,
    /// `SmsStatus` (legacy duplicate of `MessageStatus`, as sent).
    pub sms_status: Option<String>,
    /// `ErrorCode`, when the message failed or was undelivered.
    pub error_code: Option<u32>,
    /// `From`: the sending number.
    pub from: Option<Phone>,
    /// `To`: the recipient.
    pub to: Option<Phone>,
    /// `MessagingServiceSid`.
    pub messaging_service_sid: Option<String>,
    /// `ApiVersion`.
    pub api_version: Option<String>,
    /// `RawDlrDoneDate` (`YYMMDDhhmm` from the carrier's delivery receipt).
    pub raw_dlr_done_date: Option<String>,
    /// `ChannelInstallSid` (non-SMS channels).
    pub channel_install_sid: Option<String>,
    /// `ChannelStatusMessage` (channel error text).
    pub channel_status_message: Option<String>,
    /// `ChannelPrefix`, e.g. `whatsapp`.
    pub channel_prefix: Option<String>,
    /// `EventType`, e.g. `READ`.
    pub event_type: Option<String>,
    /// Every parameter as received, in order.
    pub params: FormParams,
}

impl StatusCallback {
    /// Decodes and types a raw form body; see [`StatusCallback::from_params`].
    ///
    /// # Errors
    /// As [`StatusCallback::from_params`].
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        Self::from_params(FormParams::parse(body))
    }

    /// Types the parameters of a status callback.
    ///
    /// # Errors
    /// [`WebhookError::Missing`] for an absent `MessageSid`, `AccountSid` or `MessageStatus`;
    /// [`WebhookError::UnknownStatus`] for a status this build does not know;
    /// [`WebhookError::Malformed`] for a non-numeric `ErrorCode`; [`WebhookError::Repeated`].
    pub fn from_params(params: FormParams) -> Result<Self, WebhookError> {
        let message_sid = params.required("MessageSid")?;
        let account_sid = params.required("AccountSid")?;
        let status = params
            .required("MessageStatus")?
            .parse::<MessageStatus>()
            .map_err(|_| WebhookError::UnknownStatus {
                field: "MessageStatus",
            })?;
        Ok(Self {
            sms_sid: params.optional("SmsSid")?,
            sms_status: params.optional("SmsStatus")?,
            error_code: params.number::<u32>("ErrorCode")?,
            from: params.optional("From")?.map(Phone),
            to: params.optional("To")?.map(Phone),
            messaging_service_sid: params.optional("MessagingServiceSid")?,
            api_version: params.optional("ApiVersion")?,
            raw_dlr_done_date: params.optional("RawDlrDoneDate")?,
            channel_install_sid: params.optional("ChannelInstallSid")?,
            channel_status_message: params.optional("ChannelStatusMessage")?,
            channel_prefix: params.optional("ChannelPrefix")?,
            event_type: params.optional("EventType")?,
            message_sid,
            account_sid,
            status,
            params,
        })
    }
}

impl fmt::Debug for StatusCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusCallback")
            .field("message_sid", &self.message_sid)
            .field("account_sid", &self.account_sid)
            .field("status", &self.status)
            .field("error_code", &self.error_code)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("event_type", &self.event_type)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

fn geo(
    params: &FormParams,
    [city, state, zip, country]: [&'static str; 4],
) -> Result<Geo, WebhookError> {
    Ok(Geo {
        city: params.optional(city)?,
        state: params.optional(state)?,
        zip: params.optional(zip)?,
        country: params.optional(country)?,
    })
}

/// Collects `MediaUrl{N}` and `MediaContentType{N}` by `N`.
fn media_of(params: &FormParams) -> Result<Vec<Media>, WebhookError> {
    let mut by_index: BTreeMap<u32, Media> = BTreeMap::new();
    for (name, value) in params.pairs() {
        let (field, suffix, is_url) = if let Some(n) = name.strip_prefix("MediaUrl") {
            ("MediaUrl{N}", n, true)
        } else if let Some(n) = name.strip_prefix("MediaContentType") {
            ("MediaContentType{N}", n, false)
        } else {
            continue;
        };
        if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()) {
            // Not a media parameter after all (e.g. a future `MediaUrlExpiry`): kept in params.
            continue;
        }
        let index = suffix.parse::<u32>().map_err(|_| WebhookError::Malformed {
            field,
            expected: "a whole-number media index",
        })?;
        let item = by_index.entry(index).or_insert(Media {
            index,
            url: None,
            content_type: None,
        });
        let slot = if is_url {
            &mut item.url
        } else {
            &mut item.content_type
        };
        if slot.as_deref().is_some_and(|old| old != value) {
            return Err(WebhookError::Repeated { field });
        }
        *slot = Some(value.clone()).filter(|v| !v.is_empty());
    }
    Ok(by_index.into_values().collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::signature;

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
