//! `joshctl dlq list|replay` against a real nats-server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use prost::Message;
use testkit::NatsServer;

async fn joshctl(nats: &NatsServer, args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_joshctl"))
        .args(args)
        .env_clear()
        .env("NATS_URL", nats.url())
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn dead_letters_are_listed_and_replayed_to_their_subject() {
    let nats = NatsServer::start().await.unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    bus::ensure_streams(&js, 1).await.unwrap();
    let (ok, out) = joshctl(&nats, &["dlq", "list"]).await;
    assert!(ok && out.contains("no dead letters"), "{out}");

    let envelope = proto::Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        ..proto::Envelope::for_payload(proto::v1::ProfileUpdated::default())
    };
    let original = "josh.evt.identity.profile_updated.p03";
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Josh-Original-Subject", original);
    headers.insert("Josh-Dlq-Reason", "handler failed: boom");
    headers.insert("Josh-Deliveries", "5");
    js.publish_with_headers(
        "josh.dlq.linkup-matcher",
        headers,
        envelope.encode_to_vec().into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();

    let (ok, out) = joshctl(&nats, &["dlq", "list", "--consumer", "linkup-matcher"]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("linkup-matcher") && out.contains("handler failed: boom"),
        "{out}"
    );
    assert!(out.contains(&envelope.event_id), "{out}");

    let (ok, out) = joshctl(&nats, &["dlq", "replay", "1"]).await;
    assert!(ok, "{out}");
    assert!(out.contains(original), "{out}");
    let mut stream = js.get_stream(bus::subjects::EVENTS_STREAM).await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        1,
        "replayed onto its subject"
    );
    let (_, out) = joshctl(&nats, &["dlq", "list"]).await;
    assert!(out.contains("no dead letters"), "{out}");

    let (ok, out) = joshctl(&nats, &["dlq", "replay", "1"]).await;
    assert!(
        !ok && out.contains("no dead letter with sequence 1"),
        "{out}"
    );
}
