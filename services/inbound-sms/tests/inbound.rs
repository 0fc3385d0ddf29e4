//! Inbound messages: stored once per MessageSid, encrypted and bound to the SID, with an audit
//! row and an `sms.received` outbox event, in one transaction; redeliveries (even 200 at once)
//! change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crypto::ExposeSecret as _;
use proto::Payload;
use sqlx::Row as _;
use testkit::NatsServer;
use uuid::Uuid;

struct Stored {
    id: Uuid,
    user_id: Option<Uuid>,
    direction: String,
    from_e164: String,
    to_e164: String,
    ciphertext: Vec<u8>,
    iv: Vec<u8>,
    tag: Vec<u8>,
    key_version: i32,
    media_count: i32,
    status: Option<String>,
    correlation_id: Option<Uuid>,
}

async fn stored(app: &App, message_sid: &str) -> Stored {
    let row = sqlx::query(
        "select id, user_id, direction, from_e164, to_e164, body_ciphertext, body_iv, body_tag,
                key_version, media_count, status, correlation_id
         from sms_messages where twilio_message_sid = $1",
    )
    .bind(message_sid)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    Stored {
        id: row.get("id"),
        user_id: row.get("user_id"),
        direction: row.get("direction"),
        from_e164: row.get("from_e164"),
        to_e164: row.get("to_e164"),
        ciphertext: row.get("body_ciphertext"),
        iv: row.get("body_iv"),
        tag: row.get("body_tag"),
        key_version: row.get("key_version"),
        media_count: row.get("media_count"),
        status: row.get("status"),
        correlation_id: row.get("correlation_id"),
    }
}

async fn outbox_envelope(app: &App, key: &str) -> proto::Envelope {
    let payload: Vec<u8> = sqlx::query_scalar(
        "select payload from event_outbox where producer = 'inbound-sms' and idempotency_key = $1",
    )
    .bind(key)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    proto::decode_envelope(&payload).unwrap()
}

#[tokio::test]
async fn a_message_is_stored_encrypted_with_its_event_and_audit_row() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let from = "+14155550121";
    let text = "Coffee Saturday? ☕ Café near the park";
    assert_empty_twiml(
        app.post_signed(SMS, sms_body(&message_sid, from, text))
            .await,
    )
    .await;

    let row = stored(&app, &message_sid).await;
    assert_eq!(row.direction, "in");
    assert_eq!(
        (row.from_e164.as_str(), row.to_e164.as_str()),
        (from, JOSH_NUMBER)
    );
    assert_eq!(row.status.as_deref(), Some("received"));
    assert_eq!(row.media_count, 0);
    assert_eq!(row.user_id, None);
    assert_eq!(row.key_version, app.config.keyring.active_version());
    assert_eq!((row.iv.len(), row.tag.len()), (12, 16));
    assert_ne!(row.ciphertext, text.as_bytes());
    // Decrypts with the keyring and the SID as associated data, and only with that SID.
    let keyring = &app.config.keyring;
    let body =
        crypto::EncryptedBody::from_parts(row.key_version, &row.iv, &row.ciphertext, &row.tag)
            .unwrap();
    assert_eq!(
        keyring
            .decrypt_to_string(&body, message_sid.as_bytes())
            .unwrap()
            .expose_secret(),
        text
    );
    assert!(keyring.decrypt(&body, b"SMsomeothermessage").is_err());

    // The audit row: ids and counts, no body, no phone number.
    let (event_type, payload, correlation_id, user_id): (
        String,
        serde_json::Value,
        Option<Uuid>,
        Option<Uuid>,
    ) = sqlx::query_as("select event_type, payload, correlation_id, user_id from message_events")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(event_type, "sms.received");
    assert_eq!(payload["message_sid"], message_sid.as_str());
    assert_eq!(payload["num_segments"], 1);
    assert_eq!(payload["num_media"], 0);
    assert_eq!(payload["sms_message_id"], row.id.to_string());
    let json = payload.to_string();
    assert!(
        !json.contains("Coffee") && !json.contains("4155550121") && !json.contains("5558675310"),
        "{json}"
    );
    assert_eq!(correlation_id, row.correlation_id);
    assert_eq!(user_id, None);

    // The outbox event.
    let envelope = outbox_envelope(&app, &format!("sms.received:{message_sid}")).await;
    assert_eq!(envelope.r#type, "sms.received");
    assert_eq!(envelope.producer, "inbound-sms");
    assert_eq!(
        Uuid::parse_str(&envelope.event_id)
            .unwrap()
            .get_version_num(),
        7
    );
    assert_eq!(
        Some(Uuid::parse_str(&envelope.correlation_id).unwrap()),
        row.correlation_id
    );
    let phone_hash = app.config.phone_pepper.hash(from);
    assert_eq!(envelope.partition_key, phone_hash);
    let Some(Payload::SmsReceived(received)) = envelope.payload else {
        panic!("not sms.received")
    };
    assert_eq!(received.message_sid, message_sid);
    assert_eq!(received.account_sid, ACCOUNT_SID);
    assert_eq!(
        (received.from_e164.as_str(), received.to_e164.as_str()),
        (from, JOSH_NUMBER)
    );
    assert_eq!(received.phone_hash, phone_hash);
    assert_eq!(received.user_id, "");
    assert_eq!((received.num_media, received.num_segments), (0, 1));
    assert!(received.received_at.is_some());
    let wire = received.body.unwrap();
    assert_eq!(
        (
            wire.key_version,
            wire.nonce.as_slice(),
            wire.ciphertext.as_slice(),
            wire.tag.as_slice()
        ),
        (
            row.key_version,
            row.iv.as_slice(),
            row.ciphertext.as_slice(),
            row.tag.as_slice()
        )
    );
}

#[tokio::test]
async fn a_redelivery_answers_the_same_and_changes_nothing() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let body = sms_body(&message_sid, "+14155550122", "once");
    assert_empty_twiml(app.post_signed(SMS, body.clone()).await).await;
    let first = stored(&app, &message_sid).await;
    for _ in 0..3 {
        assert_empty_twiml(app.post_signed(SMS, body.clone()).await).await;
    }
    // Twilio retries with the same SID; a retry carrying a different body changes nothing either.
    let altered = sms_body(&message_sid, "+14155550122", "twice?");
    assert_empty_twiml(app.post_signed(SMS, altered).await).await;
    let again = stored(&app, &message_sid).await;
    assert_eq!(
        (again.id, again.ciphertext, again.correlation_id),
        (first.id, first.ciphertext, first.correlation_id)
    );
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 1,
            message_events: 1,
            outbox: 1
        }
    );
}

#[tokio::test]
async fn two_hundred_concurrent_deliveries_store_and_publish_once() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let body = sms_body(&message_sid, "+14155550123", "at once");
    let sig = python_sign(TOKEN, &app.public_url(SMS), &body);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (http, url, body, sig) = (app.http.clone(), app.url(SMS), body.clone(), sig.clone());
        requests.spawn(async move {
            let response = http
                .post(url)
                .header("Content-Type", FORM)
                .header("X-Twilio-Signature", sig)
                .body(body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        });
    }
    while let Some(answer) = requests.join_next().await {
        assert_eq!(answer.unwrap(), (200, EMPTY_TWIML.to_owned()));
    }
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 1,
            message_events: 1,
            outbox: 1
        }
    );

    // A relay run publishes exactly one message.
    let nats = NatsServer::start().await.unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    bus::ensure_streams(&js, 1).await.unwrap();
    let relay = bus::Relay::new(app.pool.clone(), js.clone(), "inbound-sms");
    assert_eq!(relay.publish_batch().await.unwrap().published, 1);
    assert_eq!(relay.publish_batch().await.unwrap().published, 0);
    let mut stream = js.get_stream(bus::subjects::EVENTS_STREAM).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    let message = stream.get_raw_message(1).await.unwrap();
    assert!(message.subject.starts_with("josh.evt.sms.received.p"));
    let envelope = proto::decode_envelope(&message.payload).unwrap();
    assert_eq!(
        envelope.idempotency_key,
        format!("sms.received:{message_sid}")
    );
    assert_eq!(
        message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned()),
        Some(format!("inbound-sms:sms.received:{message_sid}"))
    );
}

#[tokio::test]
async fn a_known_phone_sets_the_user_and_an_unknown_one_leaves_it_null() {
    let app = App::start().await;
    let known = "+14155550124";
    let user = app.add_user(known).await;

    let known_sid = sid("SM");
    assert_empty_twiml(
        app.post_signed(SMS, sms_body(&known_sid, known, "it's me"))
            .await,
    )
    .await;
    let unknown_sid = sid("SM");
    assert_empty_twiml(
        app.post_signed(SMS, sms_body(&unknown_sid, "+14155550125", "who dis"))
            .await,
    )
    .await;

    assert_eq!(stored(&app, &known_sid).await.user_id, Some(user));
    assert_eq!(stored(&app, &unknown_sid).await.user_id, None);

    let audit_user: Option<Uuid> =
        sqlx::query_scalar("select user_id from message_events where payload->>'message_sid' = $1")
            .bind(&known_sid)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(audit_user, Some(user));
    let Some(Payload::SmsReceived(received)) =
        outbox_envelope(&app, &format!("sms.received:{known_sid}"))
            .await
            .payload
    else {
        panic!("not sms.received")
    };
    assert_eq!(received.user_id, user.to_string());
    let Some(Payload::SmsReceived(stranger)) =
        outbox_envelope(&app, &format!("sms.received:{unknown_sid}"))
            .await
            .payload
    else {
        panic!("not sms.received")
    };
    assert_eq!(stranger.user_id, "");
}

#[tokio::test]
async fn a_media_message_without_text_is_stored_with_its_media_count() {
    let app = App::start().await;
    let message_sid = sid("MM");
    let mut params = sms_params(&message_sid, "+14155550126", "");
    for (name, value) in params.iter_mut() {
        if *name == "NumMedia" {
            *value = "2";
        }
    }
    params.retain(|(name, _)| *name != "Body");
    params.extend([
        ("MediaContentType0", "image/jpeg"),
        (
            "MediaUrl0",
            "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0",
        ),
        ("MediaContentType1", "image/png"),
        (
            "MediaUrl1",
            "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME1",
        ),
    ]);
    assert_empty_twiml(app.post_signed(SMS, form(&params)).await).await;
    let row = stored(&app, &message_sid).await;
    assert_eq!(row.media_count, 2);
    let body =
        crypto::EncryptedBody::from_parts(row.key_version, &row.iv, &row.ciphertext, &row.tag)
            .unwrap();
    let text = app
        .config
        .keyring
        .decrypt_to_string(&body, message_sid.as_bytes())
        .unwrap();
    assert_eq!(text.expose_secret(), "");
}

#[tokio::test]
async fn a_store_failure_is_an_opaque_500_and_a_retry_then_succeeds() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let body = sms_body(
        &message_sid,
        "+14155550127",
        "while the database is unhappy",
    );
    // Make the audit insert fail for this role, after the claim: the whole transaction rolls back.
    sqlx::query("revoke insert on message_events from josh_inbound_sms")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let response = app.post_signed(SMS, body.clone()).await;
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap();
    assert_eq!(text, "internal error");
    assert_eq!(app.counts().await, Counts::NONE);

    sqlx::query("grant insert on message_events to josh_inbound_sms")
        .execute(&app.db.pool)
        .await
        .unwrap();
    // Twilio's retry is stored normally.
    assert_empty_twiml(app.post_signed(SMS, body).await).await;
    assert_eq!(
        app.counts().await,
        Counts {
            sms_messages: 1,
            message_events: 1,
            outbox: 1
        }
    );
}
