//! Every payload kind survives an envelope encode/decode round trip; bad bytes give errors.

use std::collections::{BTreeSet, HashMap};

use prost::Message as _;
use prost_types::Timestamp;
use proto::v1::{self, Envelope};
use proto::{
    CATALOG, EncryptedBody, Payload, ProtoError, decode, decode_envelope, encode_envelope,
};

const USER_A: &str = "0190f3c2-7b1a-7cc0-9a6e-000000000001";
const USER_B: &str = "0190f3c2-7b1a-7cc0-9a6e-000000000002";
const USER_C: &str = "0190f3c2-7b1a-7cc0-9a6e-000000000003";
const LINKUP: &str = "0190f3c2-7b1a-7cc0-9a6e-00000000aaaa";
const REGION: &str = "0190f3c2-7b1a-7cc0-9a6e-00000000bbbb";
const HASH: &str = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592";

fn at(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: 1_780_000_000 + seconds,
        nanos: 250_000_000,
    })
}

fn body() -> Option<EncryptedBody> {
    Some(EncryptedBody::from_parts(
        2,
        [0x11; 12],
        b"opaque ciphertext".to_vec(),
        [0x22; 16],
    ))
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn brief() -> Option<v1::LinkupBrief> {
    Some(v1::LinkupBrief {
        activity_key: "coffee".to_owned(),
        time_window: "SAT_MORNING".to_owned(),
        option_b_time_window: "SUN_MORNING".to_owned(),
        min_size: 2,
        max_size: 6,
        radius_miles: 5,
        constraints: HashMap::from([("quiet".to_owned(), true), ("indoor".to_owned(), false)]),
        motive_emphasis: HashMap::from([
            ("connection".to_owned(), 0.7),
            ("comfort".to_owned(), 0.6),
        ]),
        location_hint: "near downtown".to_owned(),
        window_starts_at: Some(Timestamp {
            seconds: 1_795_885_200,
            nanos: 0,
        }),
        window_ends_at: Some(Timestamp {
            seconds: 1_795_896_000,
            nanos: 0,
        }),
    })
}

/// One realistic payload of every kind.
#[allow(clippy::too_many_lines)]
fn samples() -> Vec<Payload> {
    vec![
        v1::SmsReceived {
            message_sid: "SM0123456789abcdef0123456789abcdef".to_owned(),
            account_sid: "AC0123456789abcdef0123456789abcdef".to_owned(),
            from_e164: "+14155550123".to_owned(),
            to_e164: "+14155559876".to_owned(),
            phone_hash: HASH.to_owned(),
            user_id: USER_A.to_owned(),
            body: body(),
            num_media: 0,
            num_segments: 1,
            received_at: at(0),
        }
        .into(),
        v1::SmsStatusReported {
            message_sid: "SMout".to_owned(),
            status: v1::SmsStatus::Undelivered.into(),
            error_code: 30_006,
            reported_at: at(5),
            raw_status: "undelivered".to_owned(),
            account_sid: "AC1".to_owned(),
            phone_hash: HASH.to_owned(),
        }
        .into(),
        v1::SmsStatusesReported {
            reports: vec![
                v1::SmsStatusReported {
                    message_sid: "SMout".to_owned(),
                    status: v1::SmsStatus::Sent.into(),
                    reported_at: at(3),
                    account_sid: "AC1".to_owned(),
                    phone_hash: HASH.to_owned(),
                    ..Default::default()
                },
                v1::SmsStatusReported {
                    message_sid: "SMout2".to_owned(),
                    status: v1::SmsStatus::Failed.into(),
                    error_code: 21_610,
                    reported_at: at(4),
                    account_sid: "AC1".to_owned(),
                    ..Default::default()
                },
            ],
        }
        .into(),
        v1::SendSms {
            user_id: USER_A.to_owned(),
            to_e164: "+14155550123".to_owned(),
            body: body(),
            purpose: v1::SmsPurpose::Invite.into(),
            urgent: false,
            validity_seconds: 7_200,
            not_before: at(60),
            region_timezone: "America/Los_Angeles".to_owned(),
            phone_hash: HASH.to_owned(),
            linkup_id: LINKUP.to_owned(),
        }
        .into(),
        v1::SmsSent {
            job_id: "job-1".to_owned(),
            message_sid: "SMout".to_owned(),
            segments: 2,
            user_id: USER_A.to_owned(),
            purpose: v1::SmsPurpose::Reply.into(),
            initial_status: v1::SmsStatus::Queued.into(),
            sent_at: at(1),
        }
        .into(),
        v1::SmsSendFailed {
            job_id: "job-2".to_owned(),
            user_id: USER_A.to_owned(),
            purpose: v1::SmsPurpose::Reminder.into(),
            error_code: 21_211,
            http_status: 400,
            attempts: 1,
            reason: "invalid_number".to_owned(),
            failed_at: at(2),
        }
        .into(),
        v1::SmsSuppressed {
            job_id: "job-3".to_owned(),
            phone_hash: HASH.to_owned(),
            user_id: USER_A.to_owned(),
            reason: v1::SuppressionReason::UserOptOut.into(),
            error_code: 0,
            purpose: v1::SmsPurpose::Invite.into(),
            suppressed_at: at(3),
        }
        .into(),
        v1::NumberMarkedUnusable {
            phone_hash: HASH.to_owned(),
            user_id: USER_A.to_owned(),
            reason: v1::SuppressionReason::CarrierOptOut21610.into(),
            error_code: 21_610,
            message_sid: "SMout".to_owned(),
            marked_at: at(4),
        }
        .into(),
        v1::UserRegistered {
            user_id: USER_A.to_owned(),
            phone_hash: HASH.to_owned(),
            region_id: REGION.to_owned(),
            channel: v1::Channel::Sms.into(),
            waitlisted: true,
            state: v1::UserState::Unverified.into(),
            registered_at: at(0),
        }
        .into(),
        v1::UserVerified {
            user_id: USER_A.to_owned(),
            phone_hash: HASH.to_owned(),
            channel: v1::Channel::Web.into(),
            region_id: REGION.to_owned(),
            waitlisted: false,
            state: v1::UserState::Interviewing.into(),
            verified_at: at(9),
        }
        .into(),
        v1::UserOptedOut {
            user_id: String::new(),
            phone_hash: HASH.to_owned(),
            source: v1::OptOutSource::PlainLanguage.into(),
            message_sid: "SMstop".to_owned(),
            opted_out_at: at(10),
        }
        .into(),
        v1::UserOptedIn {
            user_id: USER_A.to_owned(),
            phone_hash: HASH.to_owned(),
            source: v1::OptInSource::YesAfterStop.into(),
            message_sid: "SMyes".to_owned(),
            opted_in_at: at(11),
        }
        .into(),
        v1::ProfileUpdated {
            user_id: USER_A.to_owned(),
            profile_state: v1::ProfileState::CompleteMvp.into(),
            previous_state: v1::ProfileState::Partial.into(),
            changed_fields: ids(&["fingerprint.social_pace", "preferences.structure"]),
            step: "pace_01".to_owned(),
            source: v1::ProfileUpdateSource::Interview.into(),
            updated_at: at(12),
        }
        .into(),
        v1::RegionOpened {
            region_id: REGION.to_owned(),
            slug: "sf".to_owned(),
            display_name: "San Francisco".to_owned(),
            timezone: "America/Los_Angeles".to_owned(),
            previous_state: v1::RegionState::Waitlisted.into(),
            waitlisted_members: 240,
            opened_by_admin_id: USER_C.to_owned(),
            opened_at: at(13),
        }
        .into(),
        v1::UserDeleted {
            user_id: USER_A.to_owned(),
            phone_hash: HASH.to_owned(),
            source: v1::DeletionSource::Admin.into(),
            deleted_by_admin_id: USER_C.to_owned(),
            deleted_at: at(14),
        }
        .into(),
        v1::LinkupRequested {
            request_key: "c0ffee".to_owned(),
            initiator_user_id: USER_A.to_owned(),
            region_id: REGION.to_owned(),
            brief: brief(),
            source_message_sid: "SMreq".to_owned(),
            requested_at: at(20),
        }
        .into(),
        v1::LinkupCreated {
            linkup_id: LINKUP.to_owned(),
            initiator_user_id: USER_A.to_owned(),
            region_id: REGION.to_owned(),
            state: v1::LinkupState::Broadcasting.into(),
            brief: brief(),
            acceptance_window_ends_at: at(86_400),
            request_key: "c0ffee".to_owned(),
            created_at: at(21),
        }
        .into(),
        v1::InviteSent {
            invite_id: "inv-1".to_owned(),
            linkup_id: LINKUP.to_owned(),
            invited_user_id: USER_B.to_owned(),
            wave: 2,
            expires_at: at(86_400),
            offered_options: ids(&["A", "B"]),
            sent_at: at(7_200),
        }
        .into(),
        v1::InviteReplied {
            invite_id: "inv-1".to_owned(),
            linkup_id: LINKUP.to_owned(),
            user_id: USER_B.to_owned(),
            reply: v1::InviteReply::Accept.into(),
            selected_option: "B".to_owned(),
            response_message_sid: "SMyes".to_owned(),
            replied_at: at(7_300),
        }
        .into(),
        v1::InviteClosed {
            invite_id: "inv-9".to_owned(),
            linkup_id: LINKUP.to_owned(),
            user_id: USER_C.to_owned(),
            state: v1::InviteState::Closed.into(),
            reason: v1::InviteCloseReason::Filled.into(),
            had_replied: true,
            closed_at: at(7_400),
        }
        .into(),
        v1::LinkupLocked {
            linkup_id: LINKUP.to_owned(),
            initiator_user_id: USER_A.to_owned(),
            participant_user_ids: ids(&[USER_A, USER_B]),
            lock_version: 1,
            locked_at: at(7_350),
            event_time: at(100_000),
            reason: v1::LockReason::MaxSizeReached.into(),
            selected_option: "B".to_owned(),
            region_id: REGION.to_owned(),
            activity_key: "coffee".to_owned(),
        }
        .into(),
        v1::LinkupExpired {
            linkup_id: LINKUP.to_owned(),
            initiator_user_id: USER_A.to_owned(),
            accepted_user_ids: ids(&[USER_B]),
            min_size: 3,
            expired_at: at(86_400),
        }
        .into(),
        v1::LinkupCanceled {
            linkup_id: LINKUP.to_owned(),
            reason: v1::CancelReason::ReplacementFailed.into(),
            reason_text: "replacement_wave_failed".to_owned(),
            canceled_by_user_id: String::new(),
            was_locked: true,
            affected_user_ids: ids(&[USER_A, USER_B]),
            canceled_at: at(90_000),
        }
        .into(),
        v1::ParticipantDropped {
            linkup_id: LINKUP.to_owned(),
            user_id: USER_B.to_owned(),
            remaining_count: 1,
            still_meets_min: false,
            replacement_wave_started: true,
            source_message_sid: "SMdrop".to_owned(),
            dropped_at: at(80_000),
        }
        .into(),
        v1::LinkupCompleted {
            linkup_id: LINKUP.to_owned(),
            participant_user_ids: ids(&[USER_A, USER_B, USER_C]),
            event_time: at(100_000),
            completed_at: at(107_200),
        }
        .into(),
        v1::ReminderDue {
            reminder_id: "rem-1".to_owned(),
            linkup_id: LINKUP.to_owned(),
            reminder_type: v1::ReminderType::EventDay.into(),
            scheduled_for: at(90_000),
            user_ids: ids(&[USER_A, USER_B]),
        }
        .into(),
        v1::OutcomeReported {
            linkup_id: LINKUP.to_owned(),
            user_id: USER_B.to_owned(),
            attendance: v1::Attendance::Attended.into(),
            do_again: Some(false),
            feedback_present: true,
            reported_at: at(110_000),
        }
        .into(),
        v1::ContactChoiceMade {
            linkup_id: LINKUP.to_owned(),
            chooser_user_id: USER_A.to_owned(),
            target_user_ids: ids(&[USER_B, USER_C]),
            choice: v1::ContactChoice::Yes.into(),
            chosen_at: at(111_000),
        }
        .into(),
        v1::ContactExchanged {
            exchange_id: "ex-1".to_owned(),
            linkup_id: LINKUP.to_owned(),
            user_a_id: USER_A.to_owned(),
            user_b_id: USER_B.to_owned(),
            revealed_at: at(112_000),
        }
        .into(),
        v1::LinkupRequestRefused {
            request_key: "rk-2".to_owned(),
            initiator_user_id: USER_A.to_owned(),
            reason: v1::RefusalReason::TooSoon.into(),
            suggested_time_window: "SUN_MORNING".to_owned(),
            refused_at: at(113_000),
        }
        .into(),
        v1::CancelRequested {
            linkup_id: LINKUP.to_owned(),
            user_id: USER_A.to_owned(),
            reason_text: "initiator_text".to_owned(),
            source_message_sid: "SM0123456789abcdef0123456789abcde1".to_owned(),
            requested_at: at(114_000),
        }
        .into(),
        v1::DropRequested {
            linkup_id: LINKUP.to_owned(),
            user_id: USER_B.to_owned(),
            source_message_sid: "SM0123456789abcdef0123456789abcde2".to_owned(),
            requested_at: at(115_000),
        }
        .into(),
        v1::NoShowRecorded {
            linkup_id: LINKUP.to_owned(),
            user_id: USER_B.to_owned(),
            recorded_at: at(116_000),
        }
        .into(),
        v1::EntitlementChanged {
            user_id: USER_A.to_owned(),
            eligible_to_participate: true,
            eligible_to_initiate: true,
            reason: v1::EntitlementReason::Grace.into(),
            subscription_state: v1::SubscriptionState::PastDue.into(),
            grace_until: at(604_800),
            effective_at: at(0),
            expires_at: at(604_800),
            was_eligible_to_participate: true,
            was_eligible_to_initiate: true,
            stripe_event_id: "evt_123".to_owned(),
        }
        .into(),
        v1::CheckoutCompleted {
            user_id: USER_A.to_owned(),
            checkout_session_id: "cs_test_1".to_owned(),
            stripe_customer_id: "cus_1".to_owned(),
            stripe_subscription_id: "sub_1".to_owned(),
            plan: v1::BillingPlan::Monthly.into(),
            amount_total: 3_999,
            currency: "usd".to_owned(),
            stripe_event_id: "evt_124".to_owned(),
            completed_at: at(30),
        }
        .into(),
        v1::SafetyHoldChanged {
            user_id: USER_C.to_owned(),
            state: v1::SafetyHoldState::SoftHold.into(),
            previous_state: v1::SafetyHoldState::None.into(),
            reason: v1::HoldReason::Crisis.into(),
            expires_at: None,
            admin_user_id: String::new(),
            incident_id: "inc-1".to_owned(),
            changed_at: at(40),
        }
        .into(),
        v1::UserBlocked {
            blocker_user_id: USER_A.to_owned(),
            blocked_user_id: USER_C.to_owned(),
            linkup_id: LINKUP.to_owned(),
            blocked_at: at(41),
        }
        .into(),
        v1::ReportFiled {
            report_id: "rep-1".to_owned(),
            reporter_user_id: USER_A.to_owned(),
            reported_user_id: USER_C.to_owned(),
            report_type: v1::ReportType::NoShowOrLateCancel.into(),
            linkup_id: LINKUP.to_owned(),
            incident_id: "inc-2".to_owned(),
            filed_at: at(42),
        }
        .into(),
        v1::StrikeRecorded {
            strike_id: "str-1".to_owned(),
            user_id: USER_C.to_owned(),
            strike_type: v1::StrikeType::NoShow.into(),
            points: 1,
            reason: "no_show".to_owned(),
            window_start: at(0),
            window_end: at(7_776_000),
            active_strikes: 3,
            recorded_at: at(43),
        }
        .into(),
        v1::IncidentOpened {
            incident_id: "inc-3".to_owned(),
            user_id: USER_C.to_owned(),
            reporter_user_id: String::new(),
            phone_hash: HASH.to_owned(),
            incident_type: v1::IncidentType::SafetyKeyword.into(),
            severity: v1::IncidentSeverity::High.into(),
            admin_alert: true,
            urgent: false,
            keyword_tier: "high".to_owned(),
            message_sid: "SMbad".to_owned(),
            opened_at: at(44),
        }
        .into(),
    ]
}

fn wrap(payload: Payload, n: usize) -> Envelope {
    Envelope {
        event_id: format!("0190f3c2-7b1a-7cc0-9a6e-{n:012x}"),
        occurred_at: at(0),
        producer: "test-producer".to_owned(),
        correlation_id: "SM0123456789abcdef0123456789abcdef".to_owned(),
        causation_id: "0190f3c2-7b1a-7cc0-9a6e-ffffffffffff".to_owned(),
        idempotency_key: format!("test:{n}"),
        partition_key: USER_A.to_owned(),
        ..Envelope::for_payload(payload)
    }
}

#[test]
fn samples_cover_every_catalog_entry_once() {
    let covered: Vec<&str> = samples().iter().map(Payload::type_name).collect();
    let unique: BTreeSet<&str> = covered.iter().copied().collect();
    let catalog: BTreeSet<&str> = CATALOG.iter().map(|i| i.type_name).collect();
    assert_eq!(covered.len(), unique.len(), "a kind is sampled twice");
    assert_eq!(unique, catalog);
}

#[test]
fn every_payload_kind_round_trips_in_an_envelope() {
    for (n, payload) in samples().into_iter().enumerate() {
        let type_name = payload.type_name();
        let envelope = wrap(payload, n);
        let bytes = encode_envelope(&envelope).unwrap();
        let decoded = decode_envelope(&bytes).unwrap();
        assert_eq!(decoded, envelope, "{type_name}");
        assert_eq!(decoded.payload_type_name(), Some(type_name));
        assert_eq!(decoded.r#type, type_name);
        assert_eq!(decoded.schema_version, 1);
    }
}

#[test]
fn empty_payloads_round_trip_too() {
    for (n, payload) in proto::catalog::example_payloads().into_iter().enumerate() {
        let envelope = wrap(payload, n);
        let decoded = decode_envelope(&encode_envelope(&envelope).unwrap()).unwrap();
        assert_eq!(decoded, envelope);
    }
}

#[test]
fn phone_numbers_stay_out_of_debug_output() {
    let payload: Payload = v1::SendSms {
        to_e164: "+14155550123".to_owned(),
        body: body(),
        ..v1::SendSms::default()
    }
    .into();
    let shown = format!("{:?}", wrap(payload, 1));
    assert!(!shown.contains("4155550123"), "{shown}");
}

#[test]
fn bodies_only_travel_encrypted() {
    // No field anywhere in the contracts named like a body holds anything but an EncryptedBody.
    let fds = proto::file_descriptor_set().unwrap();
    let mut body_fields = 0;
    for file in fds.file.iter().filter(|f| f.package() == proto::PACKAGE) {
        for message in &file.message_type {
            for field in &message.field {
                let name = field.name();
                if matches!(name, "body" | "text" | "content" | "message")
                    || name.ends_with("_body")
                {
                    assert_eq!(
                        field.type_name(),
                        ".josh.events.v1.EncryptedBody",
                        "{}.{name}",
                        message.name()
                    );
                    body_fields += 1;
                }
            }
        }
    }
    assert_eq!(body_fields, 2, "SmsReceived.body and SendSms.body");
}

#[test]
fn garbage_bytes_are_decode_errors() {
    // Field 1 with the invalid wire type 7.
    assert!(matches!(
        decode_envelope(&[0x0f]),
        Err(ProtoError::Decode(_))
    ));
    // A varint that never ends.
    assert!(matches!(
        decode_envelope(&[0xff; 11]),
        Err(ProtoError::Decode(_))
    ));
    assert!(matches!(
        decode::<Envelope>(b"\x12\x40not actually forty bytes"),
        Err(ProtoError::Decode(_))
    ));
    // A real envelope cut short.
    let bytes = encode_envelope(&wrap(samples().remove(0), 0)).unwrap();
    assert!(matches!(
        decode_envelope(&bytes[..bytes.len() - 3]),
        Err(ProtoError::Decode(_))
    ));
    let shown = decode_envelope(&[0x0f]).unwrap_err().to_string();
    assert!(shown.starts_with("protobuf decode failed"), "{shown}");
}

#[test]
fn empty_bytes_are_an_envelope_without_payload() {
    assert_eq!(
        decode_envelope(&[]),
        Err(ProtoError::MissingPayload {
            type_name: String::new()
        })
    );
}

#[test]
fn a_newer_producers_payload_is_an_unknown_type() {
    // An envelope from a future build: type "linkup.teleported" and oneof field 399, unknown here.
    let mut bytes = Envelope {
        event_id: "0190f3c2-7b1a-7cc0-9a6e-000000000099".to_owned(),
        r#type: "linkup.teleported".to_owned(),
        schema_version: 1,
        ..Envelope::default()
    }
    .encode_to_vec();
    prost::encoding::encode_key(399, prost::encoding::WireType::LengthDelimited, &mut bytes);
    prost::encoding::encode_varint(2, &mut bytes);
    bytes.extend_from_slice(&[0x0a, 0x00]);
    assert_eq!(
        decode_envelope(&bytes),
        Err(ProtoError::UnknownType {
            type_name: "linkup.teleported".to_owned()
        })
    );
}

#[test]
fn encode_refuses_a_mismatched_envelope() {
    let envelope = Envelope {
        r#type: "sms.sent".to_owned(),
        ..wrap(v1::SmsReceived::default().into(), 0)
    };
    assert!(matches!(
        encode_envelope(&envelope),
        Err(ProtoError::TypeMismatch { .. })
    ));
}

#[test]
fn a_payload_decodes_alone() {
    let locked = v1::LinkupLocked {
        linkup_id: LINKUP.to_owned(),
        participant_user_ids: ids(&[USER_A, USER_B]),
        lock_version: 3,
        ..v1::LinkupLocked::default()
    };
    let back: v1::LinkupLocked = decode(&proto::encode(&locked)).unwrap();
    assert_eq!(back, locked);
}
