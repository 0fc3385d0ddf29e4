//! Status callbacks: one audit row and one report (in an `sms.statuses_reported` event) per
//! (MessageSid, status), and never a write to `sms_messages` (outbound rows are
//! outbound-sender's).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use proto::Payload;
use proto::v1::SmsStatus;

/// Every report published so far, as `SID:status`, in publication order.
async fn reported(app: &App) -> Vec<String> {
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar("select payload from event_outbox order by id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    let mut out = Vec::new();
    for payload in payloads {
        let envelope = proto::decode_envelope(&payload).unwrap();
        let Some(Payload::SmsStatusesReported(group)) = envelope.payload else {
            panic!("not a group of statuses: {}", envelope.r#type)
        };
        for report in group.reports {
            let status = report
                .status()
                .as_str_name()
                .trim_start_matches("SMS_STATUS_");
            out.push(format!("{}:{}", report.message_sid, status.to_lowercase()));
        }
    }
    out
}

#[tokio::test]
async fn the_same_status_twice_is_enqueued_once_and_each_status_once() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let to = "+14155550131";
    for _ in 0..2 {
        assert_empty_twiml(
            app.post_signed(STATUS, status_body(&message_sid, "sent", None, to))
                .await,
        )
        .await;
    }
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 0,
            message_events: 1,
            outbox: 1
        }
    );

    for status in ["delivered", "read", "delivered"] {
        assert_empty_twiml(
            app.post_signed(STATUS, status_body(&message_sid, status, None, to))
                .await,
        )
        .await;
    }
    assert_eq!(
        reported(&app).await,
        [
            format!("{message_sid}:sent"),
            format!("{message_sid}:delivered"),
            format!("{message_sid}:read"),
        ]
    );
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 0,
            message_events: 3,
            outbox: 3
        }
    );
}

#[tokio::test]
async fn concurrent_duplicates_of_one_status_are_enqueued_once() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let body = status_body(&message_sid, "delivered", None, "+14155550132");
    let sig = python_sign(TOKEN, &app.public_url(STATUS), &body);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (http, url, body, sig) = (app.http.clone(), app.url(STATUS), body.clone(), sig.clone());
        requests.spawn(async move {
            http.post(url)
                .header("Content-Type", FORM)
                .header("X-Twilio-Signature", sig)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 0,
            message_events: 1,
            outbox: 1
        }
    );
}

#[tokio::test]
async fn the_event_carries_status_error_code_and_recipient_hash() {
    let app = App::start().await;
    let to = "+14155550133";
    let user = app.add_user(to).await;
    let message_sid = sid("SM");
    let body = status_body(&message_sid, "failed", Some("21610"), to);
    assert_empty_twiml(app.post_signed(STATUS, body).await).await;

    let payload: Vec<u8> = sqlx::query_scalar("select payload from event_outbox")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let envelope = proto::decode_envelope(&payload).unwrap();
    assert_eq!(envelope.r#type, "sms.statuses_reported");
    assert_eq!(envelope.producer, "inbound-sms");
    assert_eq!(envelope.partition_key, message_sid);
    assert_eq!(
        envelope.idempotency_key,
        format!("sms.statuses:{}", envelope.event_id)
    );
    let Some(Payload::SmsStatusesReported(group)) = envelope.payload else {
        panic!("not a group of statuses")
    };
    assert_eq!(envelope.occurred_at, group.reports[0].reported_at);
    let [reported] = group.reports.as_slice() else {
        panic!("one report expected: {:?}", group.reports)
    };
    assert_eq!(reported.message_sid, message_sid);
    assert_eq!(reported.status(), SmsStatus::Failed);
    assert_eq!(reported.error_code, 21610);
    assert_eq!(reported.account_sid, ACCOUNT_SID);
    assert_eq!(reported.phone_hash, app.config.phone_pepper.hash(to));
    assert!(reported.reported_at.is_some());

    let (event_type, audit, user_id): (String, serde_json::Value, Option<uuid::Uuid>) =
        sqlx::query_as("select event_type, payload, user_id from message_events")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(event_type, "sms.status_reported");
    assert_eq!(audit["status"], "failed");
    assert_eq!(audit["error_code"], 21610);
    assert_eq!(user_id, Some(user));
    assert!(!audit.to_string().contains("4155550133"));
}

#[tokio::test]
async fn a_callback_without_to_still_counts() {
    // Twilio's documented example of a `sent` callback has no To.
    let app = App::start().await;
    let message_sid = sid("SM");
    let body = form(&[
        ("SmsSid", &message_sid),
        ("SmsStatus", "sent"),
        ("MessageStatus", "sent"),
        ("MessageSid", &message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", JOSH_NUMBER),
    ]);
    assert_empty_twiml(app.post_signed(STATUS, body).await).await;
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 0,
            message_events: 1,
            outbox: 1
        }
    );
}

#[tokio::test]
async fn the_role_cannot_write_outbound_rows() {
    // What keeps inbound-sms off outbound-sender's rows is Postgres itself.
    let app = App::start().await;
    let denied = sqlx::query(
        "insert into sms_messages (direction, from_e164, to_e164, twilio_message_sid) values ('out', '+1', '+2', 'SMx')",
    )
    .execute(&app.pool)
    .await;
    assert!(denied.is_err());
}
