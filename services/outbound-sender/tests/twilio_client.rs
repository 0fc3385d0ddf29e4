//! The Twilio Messages API client (`twilio::client`) against one-shot local HTTP servers:
//! Twilio's shapes, error bodies and actions, timeouts versus refused connections, and `Debug`
//! that never shows the token, the body or a full number.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration;

use secrecy::SecretString;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use twilio::client::{ApiError, CreateMessage, MessagesClient, Sender};
use twilio::errors::ErrorAction;
use twilio::status::MessageStatus;

const SID: &str = "AC00000000000000000000000000000000";

fn client(base: &str, timeout: Duration) -> MessagesClient {
    MessagesClient::new(base, SID, SecretString::from("tok-secret"), timeout).unwrap()
}

/// A one-shot HTTP server answering `status` with `body`; returns its base URL.
async fn answer_once(status: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0_u8; 8192];
        let _ = socket.read(&mut buf).await;
        let reply = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(reply.as_bytes()).await.unwrap();
    });
    base
}

fn message(body: &str) -> CreateMessage {
    CreateMessage {
        to: "+15558675310".to_owned(),
        sender: Sender::From("+15017122661".to_owned()),
        body: SecretString::from(body.to_owned()),
        status_callback: Some("https://josh.example/v1/twilio/status".to_owned()),
        validity_period: Some(600),
    }
}

#[tokio::test]
async fn a_created_message_is_read_with_twilio_shapes() {
    let base = answer_once(
        "201 Created",
        r#"{"sid":"SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"queued","to":"+15558675310","from":"+15017122661","num_segments":"2","error_code":null,"date_created":"Thu, 24 Aug 2023 05:01:45 +0000","body":"Hello! \ud83d\udc4d"}"#,
    )
    .await;
    let created = client(&base, Duration::from_secs(5))
        .create(&message("Hello! 👍"))
        .await
        .unwrap();
    assert_eq!(created.sid, "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(created.status(), Some(MessageStatus::Queued));
    assert_eq!(created.segments(), Some(2));
    assert!(created.body_is("Hello! 👍"));
    assert_eq!(
        created.created_at().map(OffsetDateTime::unix_timestamp),
        Some(1_692_853_305)
    );
    let debug = format!("{created:?}");
    assert!(
        !debug.contains("Hello") && !debug.contains("8675"),
        "{debug}"
    );
}

#[tokio::test]
async fn an_error_body_gives_status_code_and_action() {
    let base = answer_once(
        "400 Bad Request",
        r#"{"code":21610,"message":"Attempt to send to unsubscribed recipient +15558675310","more_info":"https://www.twilio.com/docs/errors/21610","status":400}"#,
    )
    .await;
    let error = client(&base, Duration::from_secs(5))
        .create(&message("hi"))
        .await
        .unwrap_err();
    assert_eq!(error.http_status(), Some(400));
    assert_eq!(error.code(), Some(21610));
    assert_eq!(error.action(), ErrorAction::Suppress);
    assert!(!error.outcome_unknown());
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("8675"), "no phone number in {shown}");
}

#[tokio::test]
async fn a_server_error_without_a_body_is_retried() {
    let base = answer_once("503 Service Unavailable", "").await;
    let error = client(&base, Duration::from_secs(5))
        .fetch("SM1")
        .await
        .unwrap_err();
    assert_eq!(error.action(), ErrorAction::RetryLater);
    assert_eq!(error.code(), None);
}

#[tokio::test]
async fn a_silent_server_times_out_with_an_unknown_outcome() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(socket);
    });
    let error = client(&base, Duration::from_millis(200))
        .create(&message("hi"))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Timeout(_)), "{error:?}");
    assert!(error.outcome_unknown());
    assert_eq!(error.action(), ErrorAction::RetryLater);
    hold.abort();
}

#[tokio::test]
async fn a_refused_connection_was_never_sent() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let error = client(&format!("http://127.0.0.1:{port}"), Duration::from_secs(2))
        .create(&message("hi"))
        .await
        .unwrap_err();
    assert!(matches!(error, ApiError::Connect(_)), "{error:?}");
    assert!(!error.outcome_unknown());
}

#[test]
fn debug_never_shows_the_token_or_the_body() {
    let c = client("http://127.0.0.1:1", Duration::from_secs(1));
    assert!(!format!("{c:?}").contains("tok-secret"));
    let m = message("secret words");
    let shown = format!("{m:?}");
    assert!(
        !shown.contains("secret words") && !shown.contains("8675"),
        "{shown}"
    );
}
