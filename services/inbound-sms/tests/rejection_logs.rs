//! A rejected webhook is logged once with its reason and never with the message body. In a test
//! binary of its own: the log capture is a thread-scoped subscriber, and tracing's per-callsite
//! interest cache, shared by every thread of a process, can hide events from it when other tests
//! run in parallel threads of the same binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

/// Collects JSON log lines.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn each_rejection_is_logged_once_with_its_reason_and_never_the_body() {
    // The test runtime is single-threaded, so the server's tasks log to this subscriber.
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = App::start().await;
    let secret = "my-very-private-words";
    let from = "+14155550119";
    let message_sid = sid("SM");
    let params = sms_params(&message_sid, from, secret);
    let forged = python_sign("not-our-token", &app.public_url(SMS), &form(&params));
    let response = app
        .post_raw(SMS, form(&params), Some(FORM), Some(&forged))
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.post_signed(SMS, without(&params, "To")).await.status(),
        400
    );
    assert_eq!(
        app.http.get(app.url(SMS)).send().await.unwrap().status(),
        405
    );
    assert_empty_twiml(app.post_signed(SMS, form(&params)).await).await;

    let lines = logs.lines();
    let rejected: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "webhook rejected")
        .collect();
    let reasons: Vec<&str> = rejected
        .iter()
        .map(|l| l["fields"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["invalid_signature", "missing_field", "method_not_allowed"]
    );
    assert_eq!(rejected[1]["fields"]["field"], "To");
    let accepted = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "webhook accepted")
        .count();
    assert_eq!(accepted, 1);
    for line in &lines {
        let text = line.to_string();
        assert!(
            !text.contains(secret) && !text.contains("4155550119"),
            "{text}"
        );
        assert!(!text.contains("5558675310"), "{text}");
    }
}
