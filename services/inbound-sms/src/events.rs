//! The events inbound-sms publishes, as bus envelopes.

use proto::Envelope;
use proto::v1::{SmsReceived, SmsStatusReported, SmsStatusesReported};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use twilio::status::MessageStatus;
use twilio::webhook::{InboundMessage, StatusCallback};
use uuid::Uuid;

use crate::SERVICE;

/// The idempotency key of the `sms.received` event of a message.
pub fn received_key(message_sid: &str) -> String {
    format!("sms.received:{message_sid}")
}

/// The id of the audit row of one (message, status) in `message_events`: derived from the
/// pair, so a callback Twilio delivers again finds its row and is stored (and published) once.
pub fn status_audit_id(message_sid: &str, status: MessageStatus) -> Uuid {
    let digest = Sha256::digest(format!("sms.status:{message_sid}:{status}").as_bytes());
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// What a stored inbound message is published with.
#[derive(Debug)]
pub struct Received<'a> {
    /// The webhook, typed.
    pub message: &'a InboundMessage,
    /// Keyed hash of the sender: the partition key, so one phone's texts stay in order.
    pub phone_hash: &'a str,
    /// The sender's user, if known.
    pub user_id: Option<Uuid>,
    /// The body as stored.
    pub body: &'a crypto::EncryptedBody,
    /// Carried through every event and reply this message causes.
    pub correlation_id: Uuid,
    /// When the webhook arrived.
    pub received_at: OffsetDateTime,
}

/// The `sms.received` envelope: the body only as `EncryptedBody`.
pub fn sms_received(r: &Received<'_>) -> Envelope {
    let at = proto::timestamp::to_timestamp(r.received_at);
    let payload = SmsReceived {
        message_sid: r.message.message_sid.clone(),
        account_sid: r.message.account_sid.clone(),
        from_e164: r.message.from.as_str().to_owned(),
        to_e164: r.message.to.as_str().to_owned(),
        phone_hash: r.phone_hash.to_owned(),
        user_id: r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        body: Some(proto::EncryptedBody::from_parts(
            r.body.key_version,
            r.body.nonce,
            r.body.ciphertext.clone(),
            r.body.tag,
        )),
        num_media: r.message.num_media,
        num_segments: r.message.num_segments,
        received_at: Some(at),
    };
    Envelope {
        event_id: Uuid::now_v7().to_string(),
        occurred_at: Some(at),
        producer: SERVICE.to_owned(),
        correlation_id: r.correlation_id.to_string(),
        idempotency_key: received_key(&r.message.message_sid),
        partition_key: r.phone_hash.to_owned(),
        ..Envelope::for_payload(payload)
    }
}

/// What a status callback is published with.
#[derive(Debug)]
pub struct Reported<'a> {
    /// The callback, typed.
    pub callback: &'a StatusCallback,
    /// Twilio's `ErrorCode`, 0 when absent.
    pub error_code: i32,
    /// Keyed hash of the recipient (`To`), when it is a phone number.
    pub phone_hash: Option<&'a str>,
    /// When the callback arrived.
    pub reported_at: OffsetDateTime,
}

/// One callback's report, as [`sms_statuses_reported`] carries it.
pub fn status_report(r: &Reported<'_>) -> SmsStatusReported {
    let callback = r.callback;
    let mut report = SmsStatusReported {
        message_sid: callback.message_sid.clone(),
        error_code: r.error_code,
        reported_at: Some(proto::timestamp::to_timestamp(r.reported_at)),
        account_sid: callback.account_sid.clone(),
        phone_hash: r.phone_hash.unwrap_or_default().to_owned(),
        ..SmsStatusReported::default()
    };
    report.set_status(callback.status.to_bus());
    report
}

/// The `sms.statuses_reported` envelope of the callbacks stored together, in the order they
/// were stored; it occurred when the first of them arrived. Its consumer is unordered
/// (statuses only move forward), so the first message names the partition; the event id is
/// the idempotency key (a group is stored once: a failed group rolls back, and its callbacks
/// are stored again in other groups).
pub fn sms_statuses_reported(reports: Vec<SmsStatusReported>, correlation_id: Uuid) -> Envelope {
    let event_id = Uuid::now_v7().to_string();
    let first = reports.first();
    let partition_key = first.map_or_else(|| event_id.clone(), |r| r.message_sid.clone());
    let occurred_at = first.and_then(|r| r.reported_at);
    Envelope {
        idempotency_key: format!("sms.statuses:{event_id}"),
        event_id,
        occurred_at,
        producer: SERVICE.to_owned(),
        correlation_id: correlation_id.to_string(),
        partition_key,
        ..Envelope::for_payload(SmsStatusesReported { reports })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps_to_its_wire_value() {
        for (status, name) in MessageStatus::ALL {
            let wire = status.to_bus();
            assert_eq!(
                wire.as_str_name(),
                format!("SMS_STATUS_{}", name.to_ascii_uppercase())
            );
        }
    }

    #[test]
    fn envelopes_carry_keys_and_no_plaintext() {
        let message = InboundMessage::parse(
            b"MessageSid=SM1&AccountSid=AC1&From=%2B15551230000&To=%2B15559870000&Body=secret+words&NumMedia=1&NumSegments=2",
        )
        .unwrap();
        let keys = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        let ring = crypto::Keyring::from_config(keys, "1").unwrap();
        let body = ring.encrypt_str(&message.body, b"SM1").unwrap();
        let envelope = sms_received(&Received {
            message: &message,
            phone_hash: "abc",
            user_id: None,
            body: &body,
            correlation_id: Uuid::now_v7(),
            received_at: OffsetDateTime::now_utc(),
        });
        assert_eq!(envelope.validate().unwrap().type_name, "sms.received");
        assert_eq!(envelope.idempotency_key, "sms.received:SM1");
        assert_eq!(envelope.partition_key, "abc");
        assert_eq!(envelope.producer, "inbound-sms");
        assert_eq!(
            Uuid::parse_str(&envelope.event_id)
                .unwrap()
                .get_version_num(),
            7
        );
        let bytes = proto::encode_envelope(&envelope).unwrap();
        assert!(!bytes.windows(7).any(|w| w == b"secret "));
        let Some(proto::Payload::SmsReceived(p)) = envelope.payload else {
            panic!("not SmsReceived");
        };
        assert_eq!((p.num_media, p.num_segments), (1, 2));
        assert!(p.user_id.is_empty());
    }
}
