//! `google.protobuf.Timestamp` to and from [`OffsetDateTime`].

use prost_types::Timestamp;
use time::OffsetDateTime;

use crate::error::ProtoError;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// The protobuf timestamp of an instant (UTC; the offset is dropped).
#[must_use]
pub fn to_timestamp(at: OffsetDateTime) -> Timestamp {
    Timestamp {
        seconds: at.unix_timestamp(),
        // Always below 10^9, so it fits.
        nanos: i32::try_from(at.nanosecond()).unwrap_or(i32::MAX),
    }
}

/// The instant of a protobuf timestamp, in UTC. Accepts non-normalized timestamps
/// (nanos outside 0..10^9).
///
/// # Errors
/// [`ProtoError::TimestampOutOfRange`] if it is outside what [`OffsetDateTime`] represents.
pub fn from_timestamp(timestamp: &Timestamp) -> Result<OffsetDateTime, ProtoError> {
    let nanos = i128::from(timestamp.seconds) * NANOS_PER_SECOND + i128::from(timestamp.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| ProtoError::TimestampOutOfRange {
        seconds: timestamp.seconds,
        nanos: timestamp.nanos,
    })
}

/// [`to_timestamp`] for an optional instant (protobuf message fields are optional).
#[must_use]
pub fn to_timestamp_opt(at: Option<OffsetDateTime>) -> Option<Timestamp> {
    at.map(to_timestamp)
}

/// [`from_timestamp`] for an optional timestamp field.
///
/// # Errors
/// [`ProtoError::TimestampOutOfRange`] as [`from_timestamp`].
pub fn from_timestamp_opt(
    timestamp: Option<&Timestamp>,
) -> Result<Option<OffsetDateTime>, ProtoError> {
    timestamp.map(from_timestamp).transpose()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn round_trips_to_the_nanosecond() {
        let at = datetime!(2026-05-02 09:00:00.123_456_789 UTC);
        let ts = to_timestamp(at);
        assert_eq!(ts.seconds, at.unix_timestamp());
        assert_eq!(ts.nanos, 123_456_789);
        assert_eq!(from_timestamp(&ts), Ok(at));
        assert_eq!(
            from_timestamp_opt(to_timestamp_opt(Some(at)).as_ref()),
            Ok(Some(at))
        );
        assert_eq!(from_timestamp_opt(None), Ok(None));
    }

    #[test]
    fn offsets_become_utc() {
        let local = datetime!(2026-05-02 09:00 -4);
        let back = from_timestamp(&to_timestamp(local));
        assert_eq!(back, Ok(datetime!(2026-05-02 13:00 UTC)));
    }

    #[test]
    fn pre_epoch_and_unnormalized_values() {
        let ts = Timestamp {
            seconds: -1,
            nanos: 1_500_000_000,
        };
        assert_eq!(
            from_timestamp(&ts),
            Ok(datetime!(1970-01-01 00:00:00.5 UTC))
        );
    }

    #[test]
    fn out_of_range_is_an_error() {
        let ts = Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(
            from_timestamp(&ts),
            Err(ProtoError::TimestampOutOfRange {
                seconds: i64::MAX,
                nanos: 0
            })
        );
    }
}
