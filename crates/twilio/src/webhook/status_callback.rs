//! The status-callback webhook.

use std::fmt;

use super::*;
use crate::status::MessageStatus;

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
