//! Every subject and stream name of the bus, in one place.
//!
//! Events are facts published by their owner: `josh.evt.<domain>.<name>.p<NN>`.
//! Commands ask one service to act: `josh.cmd.<service>.<name>.p<NN>`.
//! Dead letters of a consumer: `josh.dlq.<consumer>`.
//! Wake-ups of a producer's outbox relay (core NATS, in no stream): `josh.wake.outbox.<producer>`.
//! The `<domain>.<name>` part comes from the payload catalog in the `proto` crate.
//!
//! The trailing partition token `p<NN>` is a stable hash of the envelope's partition key (the
//! user, or the phone hash before a user exists). An ordered consumer reads each partition
//! through its own durable consumer with one message in flight, so one user's messages are
//! handled one at a time and in order while different users proceed concurrently. (Servers
//! older than NATS 2.10 allow one filter subject per consumer, hence one consumer per
//! partition rather than a multi-filter consumer.)

use proto::{Envelope, MessageKind, PayloadInfo};
use sha2::{Digest, Sha256};

use crate::BusError;

/// Number of partitions of every subject. Changing it re-shards all subjects: treat it as part
/// of the wire format (a rollout that changes it drains the streams first: k8s/README.md,
/// "Changing the bus's partition count"). An ordered consumer handles one message per partition
/// at a time, so this is also how many of one consumer's messages are in flight
/// (docs/benchmarks.md).
pub const PARTITIONS: u16 = 16;

/// The stream holding every event (`josh.evt.>`).
pub const EVENTS_STREAM: &str = "JOSH_EVENTS";
/// The stream holding every command (`josh.cmd.>`).
pub const COMMANDS_STREAM: &str = "JOSH_COMMANDS";
/// The stream holding dead letters (`josh.dlq.>`).
pub const DLQ_STREAM: &str = "JOSH_DLQ";

/// Prefix of dead-letter subjects.
pub const DLQ_PREFIX: &str = "josh.dlq";

/// Prefix of relay wake-up subjects (core NATS: no stream captures them).
pub const RELAY_WAKE_PREFIX: &str = "josh.wake.outbox";

/// The subject that wakes `producer`'s outbox relay ([`crate::wake::RelayWaker`]).
pub fn relay_wake(producer: &str) -> String {
    format!("{RELAY_WAKE_PREFIX}.{producer}")
}

/// The stream that stores messages of `kind`.
pub fn stream_of(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Event => EVENTS_STREAM,
        MessageKind::Command => COMMANDS_STREAM,
    }
}

/// The partition (0..PARTITIONS) of a partition key: the first two bytes of its SHA-256.
pub fn partition_of(key: &str) -> u16 {
    let digest = Sha256::digest(key.as_bytes());
    u16::from_be_bytes([digest[0], digest[1]]) % PARTITIONS
}

/// The subject of `payload` messages in `partition`: the catalog subject plus `.p<NN>`.
pub fn subject(payload: &PayloadInfo, partition: u16) -> String {
    format!("{}.p{partition:02}", payload.subject)
}

/// The filter matching every partition of `payload`'s subject.
pub fn all_partitions(payload: &PayloadInfo) -> String {
    format!("{}.*", payload.subject)
}

/// The subject `envelope` is published on, from its payload and partition key.
///
/// # Errors
/// [`BusError::InvalidEnvelope`] when the envelope is malformed or has no partition key.
pub fn subject_of(envelope: &Envelope) -> Result<String, BusError> {
    let payload = envelope
        .validate()
        .map_err(|_| BusError::InvalidEnvelope("malformed envelope"))?;
    if envelope.partition_key.is_empty() {
        return Err(BusError::InvalidEnvelope("empty partition_key"));
    }
    Ok(subject(payload, partition_of(&envelope.partition_key)))
}

/// The dead-letter subject of a consumer.
pub fn dlq_subject(consumer: &str) -> String {
    format!("{DLQ_PREFIX}.{consumer}")
}

/// A durable consumer name for `consumer` reading `type_name`, in `partition` when ordered.
/// Durable names may not contain dots.
pub fn durable_name(consumer: &str, type_name: &str, partition: Option<u16>) -> String {
    let base = format!("{consumer}__{}", type_name.replace('.', "_"));
    match partition {
        Some(p) => format!("{base}__p{p:02}"),
        None => base,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_design() {
        let received = proto::catalog::by_type_name("sms.received").unwrap();
        let send = proto::catalog::by_type_name("outbound.send_sms").unwrap();
        assert_eq!(subject(received, 3), "josh.evt.sms.received.p03");
        assert_eq!(subject(send, 0), "josh.cmd.outbound.send_sms.p00");
        assert_eq!(all_partitions(received), "josh.evt.sms.received.*");
        assert_eq!(
            dlq_subject("conversation-router"),
            "josh.dlq.conversation-router"
        );
        assert_eq!(relay_wake("inbound-sms"), "josh.wake.outbox.inbound-sms");
        assert_eq!(
            durable_name("conversation-router", "sms.received", Some(7)),
            "conversation-router__sms_received__p07"
        );
    }

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(partition_of("user-1"), partition_of("user-1"));
        let mut seen = [0_u32; PARTITIONS as usize];
        for i in 0..(100 * u32::from(PARTITIONS)) {
            seen[usize::from(partition_of(&format!("user-{i}")))] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "uneven spread: {seen:?}");
    }
}
