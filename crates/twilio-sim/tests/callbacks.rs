//! Status callbacks, per-number carrier behavior and injected faults.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::{Duration, Instant};

use common::{ACCOUNT, JOSH, PHONE, Receiver, create, create_ok, simulator};
use serde_json::{Value, json};
use twilio::status::MessageStatus;
use twilio_sim::NumberBehavior;

const CALLBACK_PATH: &str = "/v1/twilio/status?job=42";

#[tokio::test]
async fn callbacks_are_signed_and_go_sent_then_delivered() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(None).await;
    let callback = receiver.url(CALLBACK_PATH);
    let created = create_ok(&sim, PHONE, &[("StatusCallback", &callback)]).await;
    let sid = created["sid"].as_str().unwrap();

    for status in ["sent", "delivered"] {
        let hit = receiver.next().await;
        assert_eq!(hit.path, CALLBACK_PATH);
        receiver.assert_signed(&hit);
        assert_eq!(hit.get("MessageStatus"), Some(status), "{hit:?}");
        assert_eq!(hit.get("SmsStatus"), Some(status));
        assert_eq!(hit.get("MessageSid"), Some(sid));
        assert_eq!(hit.get("SmsSid"), Some(sid));
        assert_eq!(hit.get("AccountSid"), Some(ACCOUNT));
        assert_eq!(hit.get("From"), Some(JOSH));
        assert_eq!(hit.get("To"), Some(PHONE));
        assert_eq!(hit.get("ApiVersion"), Some("2010-04-01"));
        assert_eq!(hit.get("ErrorCode"), None);
    }
    receiver.assert_quiet(&sim).await;

    let stored = sim.message(sid).unwrap();
    assert_eq!(stored.status, MessageStatus::Delivered);
    assert!(stored.date_sent.is_some());
    let inbox = sim.phone_messages(PHONE);
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].body, "Hi from JOSH");
}

#[tokio::test]
async fn messaging_service_messages_call_back_queued_first() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(None).await;
    let callback = receiver.url(CALLBACK_PATH);
    let form = [
        ("To", PHONE),
        ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"),
        ("Body", "hi"),
        ("StatusCallback", callback.as_str()),
    ];
    assert_eq!(create(&sim, &form).await.status(), 201);
    for status in ["queued", "sent", "delivered"] {
        let hit = receiver.next().await;
        receiver.assert_signed(&hit);
        assert_eq!(hit.get("MessageStatus"), Some(status));
        assert!(hit.get("MessagingServiceSid").is_some());
    }
}

#[tokio::test]
async fn unreachable_numbers_end_undelivered_with_the_error_code() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(None).await;
    sim.set_number_behavior(PHONE, NumberBehavior::Unreachable(30005));
    let callback = receiver.url(CALLBACK_PATH);
    let created = create_ok(&sim, PHONE, &[("StatusCallback", &callback)]).await;

    let sent = receiver.next().await;
    assert_eq!(sent.get("MessageStatus"), Some("sent"));
    let undelivered = receiver.next().await;
    receiver.assert_signed(&undelivered);
    assert_eq!(undelivered.get("MessageStatus"), Some("undelivered"));
    assert_eq!(undelivered.get("ErrorCode"), Some("30005"));

    let stored = sim.message(created["sid"].as_str().unwrap()).unwrap();
    assert_eq!(stored.status, MessageStatus::Undelivered);
    assert_eq!(stored.error_code, Some(30005));
    assert!(sim.phone_messages(PHONE).is_empty());
}

#[tokio::test]
async fn opted_out_numbers_are_refused_with_21610() {
    let sim = simulator(None).await;
    sim.set_number_behavior(PHONE, NumberBehavior::OptedOut);
    let response = create(&sim, &[("To", PHONE), ("From", JOSH), ("Body", "hi")]).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 21610);
    assert_eq!(sim.create_count(), 0);
}

#[tokio::test]
async fn injected_failures_answer_first_then_creates_succeed() {
    let sim = simulator(None).await;
    sim.fail_next_creates(2, 500, None);
    let form = [("To", PHONE), ("From", JOSH), ("Body", "hi")];
    for _ in 0..2 {
        let response = create(&sim, &form).await;
        assert_eq!(response.status(), 500);
        let body: Value = response.json().await.unwrap();
        assert!(body["code"].is_null(), "{body}");
        assert_eq!(body["status"], 500);
    }
    assert_eq!(create(&sim, &form).await.status(), 201);
    assert_eq!(sim.create_count(), 1);

    sim.fail_next_creates(1, 429, Some(20429));
    let body: Value = create(&sim, &form).await.json().await.unwrap();
    assert_eq!(body["code"], 20429);
}

#[tokio::test]
async fn fire_status_sends_callbacks_in_any_order_but_status_moves_forward() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(None).await;
    sim.set_auto_callbacks(false);
    let callback = receiver.url(CALLBACK_PATH);
    let created = create_ok(&sim, PHONE, &[("StatusCallback", &callback)]).await;
    let sid = created["sid"].as_str().unwrap();
    receiver.assert_quiet(&sim).await;

    receiver.answer_with(204);
    let answered = sim
        .fire_status(sid, MessageStatus::Delivered, None)
        .await
        .unwrap();
    assert_eq!(answered, 204);
    sim.fire_status(sid, MessageStatus::Sent, None)
        .await
        .unwrap();
    let first = receiver.next().await;
    let second = receiver.next().await;
    receiver.assert_signed(&second);
    assert_eq!(first.get("MessageStatus"), Some("delivered"));
    assert_eq!(second.get("MessageStatus"), Some("sent"));
    assert_eq!(sim.message(sid).unwrap().status, MessageStatus::Delivered);
    assert_eq!(sim.phone_messages(PHONE).len(), 1);

    let failed = sim
        .fire_status(sid, MessageStatus::Failed, Some(30008))
        .await;
    assert!(failed.is_ok());
    assert_eq!(receiver.next().await.get("ErrorCode"), Some("30008"));
    assert!(
        sim.fire_status("SMnope", MessageStatus::Sent, None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn slow_creates_and_lost_callbacks() {
    let mut receiver = Receiver::start().await;
    let sim = simulator(None).await;
    sim.set_create_delay(Duration::from_millis(300));
    sim.set_drop_callbacks(true);
    let callback = receiver.url(CALLBACK_PATH);
    let started = Instant::now();
    let created = create_ok(&sim, PHONE, &[("StatusCallback", &callback)]).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    receiver.assert_quiet(&sim).await;
    let sid = created["sid"].as_str().unwrap();
    assert_eq!(sim.message(sid).unwrap().status, MessageStatus::Delivered);
}

#[tokio::test]
async fn faults_can_be_set_over_http() {
    let sim = simulator(None).await;
    let faults = json!({
        "fail_next_creates": {"count": 1, "http_status": 503, "code": 20503},
        "numbers": [
            {"number": "+15555550111", "behavior": "opted_out"},
            {"number": "+15555550122", "behavior": {"unreachable": 30003}},
        ],
        "auto_callbacks": true,
    });
    let response = reqwest::Client::new()
        .post(format!("{}/sim/faults", sim.base_url()))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let form = |to| [("To", to), ("From", JOSH), ("Body", "hi")];
    assert_eq!(create(&sim, &form(PHONE)).await.status(), 503);
    assert_eq!(create(&sim, &form("+15555550111")).await.status(), 400);
    assert_eq!(create(&sim, &form("+15555550122")).await.status(), 201);
    testkit::wait_until(
        "the unreachable number's final status",
        Duration::from_secs(10),
        || async { sim.messages()[0].status.is_final() },
    )
    .await
    .unwrap();
    let message = &sim.messages()[0];
    assert_eq!(message.status, MessageStatus::Undelivered);
    assert_eq!(message.error_code, Some(30003));

    let bad = reqwest::Client::new()
        .post(format!("{}/sim/faults", sim.base_url()))
        .json(&json!({"no_such_fault": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}
