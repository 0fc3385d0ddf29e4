//! A simulated phone texting JOSH: the signed incoming-message webhook Twilio posts to the
//! number's webhook URL.

use anyhow::Context;
use time::OffsetDateTime;
use twilio::status::MessageStatus;

use crate::Shared;
use crate::lifecycle::post_signed;
use crate::resource::{API_VERSION, new_sid};
use crate::state::SimMessage;

/// One text from a phone to JOSH.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inbound<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub messaging_service_sid: Option<&'a str>,
    /// Redeliver with this MessageSid instead of a new one.
    pub sid: Option<&'a str>,
}

/// What became of an inbound text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Delivered {
    /// The SID the webhook carried.
    pub sid: String,
    /// The HTTP status the webhook receiver answered.
    pub http_status: u16,
    /// When the answer arrived.
    pub answered_at: OffsetDateTime,
}

/// Geo fields Twilio fills from the numbers (the simulator knows only the country of +1).
fn country(number: &str) -> &'static str {
    if number.starts_with("+1") { "US" } else { "" }
}

/// The webhook parameters, named and ordered as in captured Twilio requests (empty geo values
/// included: they are part of the signature).
pub(crate) fn params(account_sid: &str, sid: &str, text: &Inbound<'_>) -> Vec<(String, String)> {
    let segments = twilio::segments::count(text.body).segments.to_string();
    let mut params: Vec<(&str, String)> = vec![
        ("ToCountry", country(text.to).to_owned()),
        ("ToState", String::new()),
        ("SmsMessageSid", sid.to_owned()),
        ("NumMedia", "0".to_owned()),
        ("ToCity", String::new()),
        ("FromZip", String::new()),
        ("SmsSid", sid.to_owned()),
        ("FromState", String::new()),
        ("SmsStatus", "received".to_owned()),
        ("FromCity", String::new()),
        ("Body", text.body.to_owned()),
        ("FromCountry", country(text.from).to_owned()),
        ("To", text.to.to_owned()),
    ];
    if let Some(service) = text.messaging_service_sid {
        params.push(("MessagingServiceSid", service.to_owned()));
    }
    params.extend([
        ("ToZip", String::new()),
        ("NumSegments", segments),
        ("MessageSid", sid.to_owned()),
        ("AccountSid", account_sid.to_owned()),
        ("From", text.from.to_owned()),
        ("ApiVersion", API_VERSION.to_owned()),
    ]);
    params
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// Records the text as a received message and posts the signed webhook to the configured
/// inbound URL.
///
/// # Errors
/// No inbound webhook URL is configured, or the receiver cannot be reached (or takes longer
/// than Twilio's 15 s).
pub(crate) async fn send(shared: &Shared, text: Inbound<'_>) -> anyhow::Result<Delivered> {
    let url = shared
        .inbound_webhook_url
        .as_deref()
        .context("the simulator has no inbound webhook URL (SIM_INBOUND_WEBHOOK_URL)")?;
    let sid = text.sid.map_or_else(|| new_sid("SM"), str::to_owned);
    let now = OffsetDateTime::now_utc();
    shared.store.insert_inbound_once(SimMessage {
        sid: sid.clone(),
        account_sid: shared.account_sid.clone(),
        from: Some(text.from.to_owned()),
        messaging_service_sid: text.messaging_service_sid.map(str::to_owned),
        to: text.to.to_owned(),
        body: text.body.to_owned(),
        status: MessageStatus::Received,
        status_callback: None,
        validity_period: None,
        num_segments: twilio::segments::count(text.body).segments,
        media_urls: Vec::new(),
        error_code: None,
        date_created: now,
        date_updated: now,
        date_sent: Some(now),
    });
    let params = params(&shared.account_sid, &sid, &text);
    let http_status = post_signed(shared, url, &params).await?;
    let answered_at = OffsetDateTime::now_utc();
    tracing::info!(
        sid,
        from = text.from,
        to = text.to,
        http_status,
        redelivery = text.sid.is_some(),
        "inbound webhook sent"
    );
    Ok(Delivered {
        sid,
        http_status,
        answered_at,
    })
}
