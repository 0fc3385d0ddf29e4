//! The inbound-message webhook.

use std::collections::BTreeMap;
use std::fmt;

use super::*;

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
