//! Every bad request is refused with its status, names the bad parameter when there is one, and
//! stores nothing: no message, no audit row, no outbox row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn replaced(params: &[(&str, &str)], name: &str, value: &str) -> String {
    let changed: Vec<(&str, &str)> = params
        .iter()
        .map(|&(n, v)| if n == name { (n, value) } else { (n, v) })
        .collect();
    form(&changed)
}

async fn expect(response: reqwest::Response, status: u16, mentions: &str) {
    assert_eq!(response.status(), status);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(mentions),
        "{status} answer {text:?} lacks {mentions:?}"
    );
}

#[tokio::test]
async fn bad_signatures_and_accounts_are_403_and_store_nothing() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let body = sms_body(&message_sid, "+14155550111", "forged");

    // No header, an empty header.
    expect(
        app.post_raw(SMS, body.clone(), Some(FORM), None).await,
        403,
        "forbidden",
    )
    .await;
    expect(
        app.post_raw(SMS, body.clone(), Some(FORM), Some("")).await,
        403,
        "forbidden",
    )
    .await;
    // Signed with another token, signed for another URL, signed over other parameters.
    let wrong_token = python_sign("not-our-token", &app.public_url(SMS), &body);
    expect(
        app.post_raw(SMS, body.clone(), Some(FORM), Some(&wrong_token))
            .await,
        403,
        "forbidden",
    )
    .await;
    let wrong_url = python_sign(TOKEN, &app.public_url(STATUS), &body);
    expect(
        app.post_raw(SMS, body.clone(), Some(FORM), Some(&wrong_url))
            .await,
        403,
        "forbidden",
    )
    .await;
    let other = sms_body(&message_sid, "+14155550111", "what was signed");
    let other_sig = python_sign(TOKEN, &app.public_url(SMS), &other);
    expect(
        app.post_raw(SMS, body.clone(), Some(FORM), Some(&other_sig))
            .await,
        403,
        "forbidden",
    )
    .await;
    // Garbage.
    expect(
        app.post_raw(SMS, body.clone(), Some(FORM), Some("not base64 at all"))
            .await,
        403,
        "forbidden",
    )
    .await;

    // Correctly signed (someone holds our token) but for another account.
    let params = sms_params(&message_sid, "+14155550111", "other account");
    let foreign = replaced(&params, "AccountSid", "AC11111111111111111111111111111111");
    expect(app.post_signed(SMS, foreign).await, 403, "forbidden").await;

    // The same for status callbacks.
    let status = status_body(&sid("SM"), "delivered", None, "+14155550111");
    expect(
        app.post_raw(STATUS, status.clone(), Some(FORM), None).await,
        403,
        "forbidden",
    )
    .await;
    expect(
        app.post_raw(STATUS, status, Some(FORM), Some(&wrong_token))
            .await,
        403,
        "forbidden",
    )
    .await;

    assert_eq!(app.counts().await, Counts::NONE);
}

#[tokio::test]
async fn missing_or_malformed_parameters_are_400_naming_the_field() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let params = sms_params(&message_sid, "+14155550112", "incomplete");
    for field in ["From", "To", "MessageSid", "AccountSid"] {
        expect(
            app.post_signed(SMS, without(&params, field)).await,
            400,
            field,
        )
        .await;
        // Present but empty is missing too.
        expect(
            app.post_signed(SMS, replaced(&params, field, "")).await,
            400,
            field,
        )
        .await;
    }
    expect(
        app.post_signed(SMS, replaced(&params, "NumMedia", "two"))
            .await,
        400,
        "NumMedia",
    )
    .await;
    expect(
        app.post_signed(SMS, replaced(&params, "NumSegments", "-1"))
            .await,
        400,
        "NumSegments",
    )
    .await;
    expect(
        app.post_signed(SMS, replaced(&params, "From", "4155550112"))
            .await,
        400,
        "From",
    )
    .await;
    let twice = format!("{}&From=%2B19998887777", form(&params));
    expect(app.post_signed(SMS, twice).await, 400, "From").await;

    // Status callbacks: required fields, unknown status, non-numeric ErrorCode.
    let sm = sid("SM");
    let status = [
        ("MessageSid", sm.as_str()),
        ("MessageStatus", "delivered"),
        ("AccountSid", ACCOUNT_SID),
        ("To", "+14155550112"),
    ];
    for field in ["MessageSid", "MessageStatus", "AccountSid"] {
        expect(
            app.post_signed(STATUS, without(&status, field)).await,
            400,
            field,
        )
        .await;
    }
    expect(
        app.post_signed(STATUS, replaced(&status, "MessageStatus", "huh"))
            .await,
        400,
        "MessageStatus",
    )
    .await;
    let bad_code = format!("{}&ErrorCode=30003x", form(&status));
    expect(app.post_signed(STATUS, bad_code).await, 400, "ErrorCode").await;

    assert_eq!(app.counts().await, Counts::NONE);
}

#[tokio::test]
async fn a_400_answer_never_echoes_values() {
    let app = App::start().await;
    let message_sid = sid("SM");
    let params = sms_params(&message_sid, "+14155550113", "a secret body");
    let response = app.post_signed(SMS, without(&params, "To")).await;
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("secret") && !text.contains("4155550113"),
        "{text}"
    );
}

#[tokio::test]
async fn wrong_content_types_are_415() {
    let app = App::start().await;
    let body = sms_body(&sid("SM"), "+14155550114", "json?");
    let sig = python_sign(TOKEN, &app.public_url(SMS), &body);
    for content_type in [
        Some("application/json"),
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let response = app
            .post_raw(SMS, body.clone(), content_type, Some(&sig))
            .await;
        assert_eq!(response.status(), 415, "{content_type:?}");
    }
    // Parameters after the media type are fine.
    let response = app
        .post_raw(
            SMS,
            body,
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            Some(&sig),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.counts().await.sms_messages, 1);
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow_post() {
    let app = App::start().await;
    for path in [SMS, STATUS] {
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
        ] {
            let response = app
                .http
                .request(method.clone(), app.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], "POST", "{method} {path}");
        }
    }
    assert_eq!(app.counts().await, Counts::NONE);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = App::start().await;
    // 70 KiB of text, correctly signed: refused by its Content-Length.
    let big = "x".repeat(70 * 1024);
    let body = sms_body(&sid("SM"), "+14155550115", &big);
    let response = app.post_signed(SMS, body).await;
    assert_eq!(response.status(), 413);
    let status = format!(
        "{}&Padding={big}",
        status_body(&sid("SM"), "sent", None, "+14155550115")
    );
    assert_eq!(app.post_signed(STATUS, status).await.status(), 413);

    // Chunked (no Content-Length): refused while reading.
    let body = sms_body(&sid("SM"), "+14155550115", &big);
    let sig = python_sign(TOKEN, &app.public_url(SMS), &body);
    assert_eq!(chunked_post(&app, SMS, &body, &sig).await, 413);

    // Just under the limit is fine.
    let small = App::with_body_limit(4096).await;
    let body = sms_body(&sid("SM"), "+14155550115", &"y".repeat(3000));
    assert!(body.len() < 4096);
    assert_eq!(small.post_signed(SMS, body).await.status(), 200);
    let body = sms_body(&sid("SM"), "+14155550115", &"y".repeat(4096));
    assert_eq!(small.post_signed(SMS, body).await.status(), 413);

    assert_eq!(app.counts().await, Counts::NONE);
    assert_eq!(small.counts().await.sms_messages, 1);
}

/// POSTs `body` with `Transfer-Encoding: chunked` over a raw connection; returns the status.
async fn chunked_post(app: &App, path: &str, body: &str, signature: &str) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {FORM}\r\nX-Twilio-Signature: {signature}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr
    );
    for chunk in body.as_bytes().chunks(8192) {
        request.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            std::str::from_utf8(chunk).unwrap()
        ));
    }
    request.push_str("0\r\n\r\n");
    // The server may answer 413 and close before reading everything; ignore write errors.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let head = String::from_utf8_lossy(&answer);
    head.split_whitespace().nth(1).unwrap().parse().unwrap()
}
