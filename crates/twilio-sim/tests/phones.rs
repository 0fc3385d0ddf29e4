//! Simulated phones: signed inbound webhooks and inbox long polls.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use common::{ACCOUNT, JOSH, PHONE, Receiver, create_ok, simulator};
use serde_json::json;
use twilio_sim::client::{PhoneClient, PhoneError};

const WEBHOOK_PATH: &str = "/v1/twilio/sms";

#[tokio::test]
async fn send_inbound_posts_a_signed_webhook_with_twilios_parameters() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(Some(receiver.url(WEBHOOK_PATH))).await;
    let status = sim.send_inbound(PHONE, JOSH, "Hi JOSH! 👋").await.unwrap();
    assert_eq!(status, 200);

    let hit = receiver.next().await;
    assert_eq!(hit.path, WEBHOOK_PATH);
    receiver.assert_signed(&hit);
    let sid = hit.get("MessageSid").unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34);
    assert_eq!(hit.get("SmsSid"), Some(sid));
    assert_eq!(hit.get("SmsMessageSid"), Some(sid));
    assert_eq!(hit.get("AccountSid"), Some(ACCOUNT));
    assert_eq!(hit.get("From"), Some(PHONE));
    assert_eq!(hit.get("To"), Some(JOSH));
    assert_eq!(hit.get("Body"), Some("Hi JOSH! 👋"));
    assert_eq!(hit.get("NumMedia"), Some("0"));
    assert_eq!(hit.get("NumSegments"), Some("1"));
    assert_eq!(hit.get("SmsStatus"), Some("received"));
    assert_eq!(hit.get("ApiVersion"), Some("2010-04-01"));
    assert_eq!(hit.get("FromCountry"), Some("US"));
    assert_eq!(hit.get("FromCity"), Some(""), "empty geo values are sent");
    assert_eq!(hit.get("MessagingServiceSid"), None);
    assert_eq!(sim.inbound_messages()[0].sid, sid);

    receiver.answer_with(403);
    assert_eq!(sim.send_inbound(PHONE, JOSH, "again").await.unwrap(), 403);
}

#[tokio::test]
async fn send_inbound_without_a_webhook_or_receiver_is_an_error() {
    let sim = simulator(None).await;
    assert!(sim.send_inbound(PHONE, JOSH, "hi").await.is_err());
    let nobody = simulator(Some("http://127.0.0.1:9/v1/twilio/sms".to_owned())).await;
    assert!(nobody.send_inbound(PHONE, JOSH, "hi").await.is_err());
    let phone = PhoneClient::new(&nobody.base_url(), PHONE);
    let refused = phone.send(JOSH, "hi").await.unwrap_err();
    assert!(
        matches!(refused, PhoneError::Refused { status: 502, .. }),
        "{refused}"
    );
}

#[tokio::test]
async fn the_phone_api_sends_and_long_polls_the_inbox() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(Some(receiver.url(WEBHOOK_PATH))).await;
    let phone = PhoneClient::new(&sim.base_url(), PHONE);
    phone.health().await.unwrap();

    let sent = phone.send(JOSH, "hello").await.unwrap();
    assert_eq!(sent.webhook_status, 200);
    let hit = receiver.next().await;
    receiver.assert_signed(&hit);
    assert_eq!(hit.get("MessageSid"), Some(sent.sid.as_str()));

    assert!(phone.inbox(None, Duration::ZERO).await.unwrap().is_empty());
    let poll = {
        let phone = phone.clone();
        tokio::spawn(async move { phone.inbox(None, Duration::from_secs(5)).await })
    };
    testkit::wait_until(
        "the long poll to be waiting",
        Duration::from_secs(10),
        || async { sim.inbox_polls_waiting() == 1 },
    )
    .await
    .unwrap();
    create_ok(&sim, PHONE, &[]).await;
    create_ok(&sim, "+15555550199", &[]).await;
    let first = poll.await.unwrap().unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].index, 0);
    assert_eq!(first[0].body, "Hi from JOSH");
    assert_eq!(first[0].from.as_deref(), Some(JOSH));

    let started = std::time::Instant::now();
    let none = phone
        .inbox(Some(0), Duration::from_millis(300))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(sim.phone_messages("+15555550199").len(), 1);
}

#[tokio::test]
async fn bad_phone_requests_are_refused() {
    let sim = simulator(None).await;
    let response = reqwest::Client::new()
        .post(format!("{}/sim/phones/5550100/send", sim.base_url()))
        .json(&json!({"to": JOSH, "body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let unreachable = PhoneClient::new("http://127.0.0.1:9", PHONE);
    let error = unreachable.health().await.unwrap_err();
    assert!(matches!(error, PhoneError::Unreachable { .. }), "{error}");
}

#[tokio::test]
async fn a_resent_webhook_keeps_its_sid_and_is_recorded_once() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(Some(receiver.url(WEBHOOK_PATH))).await;
    let phone = PhoneClient::new(&sim.base_url(), PHONE);
    let first = phone.send(JOSH, "hello").await.unwrap();
    assert!(first.answered_at_us > 0);
    receiver.next().await;
    let again = phone.resend(JOSH, "hello", &first.sid).await.unwrap();
    assert_eq!(again.sid, first.sid);
    assert!(again.answered_at_us >= first.answered_at_us);
    let hit = receiver.next().await;
    receiver.assert_signed(&hit);
    assert_eq!(hit.get("MessageSid"), Some(first.sid.as_str()));
    assert_eq!(sim.inbound_messages().len(), 1);
    let refused = phone
        .resend(JOSH, "hello", "SMnot-a-sid")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, PhoneError::Refused { status: 400, .. }),
        "{refused}"
    );
}

#[tokio::test]
async fn the_outbound_feed_pages_creates_with_receipt_times() {
    let sim = simulator(None).await;
    let before = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
    for to in ["+15555550101", "+15555550102", "+15555550103"] {
        create_ok(&sim, to, &[]).await;
    }
    let http = reqwest::Client::new();
    let feed = |query: &'static str| {
        let url = format!("{}/sim/outbound{query}", sim.base_url());
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<twilio_sim::wire::OutboundFeed>()
                .await
                .unwrap()
        }
    };
    let all = feed("").await;
    assert_eq!(all.total, 3);
    let indexes: Vec<_> = all.messages.iter().map(|m| m.index).collect();
    assert_eq!(indexes, [0, 1, 2]);
    assert_eq!(all.messages[1].to, "+15555550102");
    assert_eq!(all.messages[1].sid, sim.messages()[1].sid);
    assert!(
        all.messages
            .iter()
            .all(|m| i128::from(m.created_at_us) >= before)
    );
    let page = feed("?after=0&limit=1").await;
    assert_eq!(page.total, 3);
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].index, 1);
    assert!(feed("?after=2").await.messages.is_empty());
}
