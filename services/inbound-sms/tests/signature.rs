//! Requests signed by an independent implementation of Twilio's signature (Python's standard
//! library, at test time) are accepted, with `PUBLIC_BASE_URL` written with or without the
//! default port; the query string is part of what is signed. (Twilio's published vector is
//! checked in `crates/twilio`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[tokio::test]
async fn a_request_signed_by_python_is_accepted() {
    let app = App::start().await;
    let body = sms_body(&sid("SM"), "+14155550101", "Hi JOSH");
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

#[test]
fn python_and_rust_agree_on_a_fixed_vector() {
    // Precomputed once with the same Python code (`python_sign`), kept here so a change in
    // either implementation shows: token "test-twilio-auth-token",
    // url "https://josh.example.com/v1/twilio/sms", this body.
    let body = "MessageSid=SM1&AccountSid=AC00000000000000000000000000000000&From=%2B14155550101&To=%2B15558675310&Body=Caf%C3%A9+%E2%98%95+%2B+friends&ToCity=";
    let url = "https://josh.example.com/v1/twilio/sms";
    let python = python_sign(TOKEN, url, body);
    assert_eq!(python, "vGl7EbysQqFKnjsigYdtrRgjj3k=");
    let params = twilio::webhook::FormParams::parse(body.as_bytes());
    assert_eq!(twilio::signature::sign(TOKEN, url, params.pairs()), python);
}

#[tokio::test]
async fn the_default_port_may_be_in_the_signed_url_or_in_public_base_url() {
    // Twilio signed with the port, we are configured without it.
    let app = App::with_base_url("https://josh.example.com").await;
    let body = sms_body(&sid("SM"), "+14155550102", "port 443 in the signed URL");
    let sig = python_sign(TOKEN, "https://josh.example.com:443/v1/twilio/sms", &body);
    assert_empty_twiml(app.post_raw(SMS, body, Some(FORM), Some(&sig)).await).await;

    // We are configured with the port, Twilio signed without it.
    let app = App::with_base_url("https://josh.example.com:443").await;
    let body = sms_body(&sid("SM"), "+14155550103", "no port in the signed URL");
    let sig = python_sign(TOKEN, "https://josh.example.com/v1/twilio/sms", &body);
    assert_empty_twiml(app.post_raw(SMS, body, Some(FORM), Some(&sig)).await).await;

    // Plain http and port 80, both ways.
    let app = App::with_base_url("http://127.0.0.1:80").await;
    let body = sms_body(&sid("SM"), "+14155550104", "http");
    let sig = python_sign(TOKEN, "http://127.0.0.1/v1/twilio/sms", &body);
    assert_empty_twiml(app.post_raw(SMS, body, Some(FORM), Some(&sig)).await).await;

    // A non-default port is never dropped.
    let app = App::with_base_url("https://josh.example.com:8443").await;
    let body = sms_body(&sid("SM"), "+14155550105", "other port");
    let sig = python_sign(TOKEN, "https://josh.example.com/v1/twilio/sms", &body);
    let response = app.post_raw(SMS, body, Some(FORM), Some(&sig)).await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.counts().await, Counts::NONE);
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_part_of_the_signed_url() {
    let app = App::with_base_url("https://edge.example.com/josh").await;
    let body = sms_body(&sid("SM"), "+14155550106", "behind a path prefix");
    let sig = python_sign(TOKEN, "https://edge.example.com/josh/v1/twilio/sms", &body);
    assert_empty_twiml(app.post_raw(SMS, body, Some(FORM), Some(&sig)).await).await;
}

#[tokio::test]
async fn the_query_string_is_signed() {
    let app = App::start().await;
    let body = sms_body(&sid("SM"), "+14155550107", "with a query");
    assert_empty_twiml(app.post_signed("/v1/twilio/sms?region=sf&x=1", body).await).await;

    // Signed without the query the request carries: refused.
    let body = sms_body(&sid("SM"), "+14155550108", "query not signed");
    let sig = python_sign(TOKEN, &app.public_url(SMS), &body);
    let response = app
        .post_raw("/v1/twilio/sms?region=sf", body, Some(FORM), Some(&sig))
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(app.counts().await.sms_messages, 1);
}

#[tokio::test]
async fn status_callbacks_signed_by_python_are_accepted() {
    let app = App::start().await;
    let body = status_body(&sid("SM"), "delivered", None, "+14155550109");
    assert_empty_twiml(app.post_signed("/v1/twilio/status?job=42", body).await).await;
    let counts = app.counts().await;
    assert_eq!((counts.outbox, counts.message_events), (1, 1));
}
