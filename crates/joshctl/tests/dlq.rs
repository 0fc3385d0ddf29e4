//! `joshctl dlq list|replay|discard` against the DeadLetters admin API of two services served
//! in-process on port 0 (the others unreachable) over a real database and a private nats-server:
//! a table or JSON of every reachable service's letters, replay by id without naming the
//! service, replay of all, clear refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use admin_auth::testing;
use async_nats::jetstream;
use common::{Cli, stderr, stdout};
use prost::Message;
use testkit::{NatsServer, TestDb};
use tonic::service::Routes;

const ORIGINAL: &str = "josh.evt.identity.profile_updated.p03";

/// joshctl with the router's and outbound-sender's DeadLetters APIs served in-process; nothing
/// listens where the other services' admin APIs would be (the discard port).
struct World {
    cli: Cli,
    _nats: NatsServer,
    js: jetstream::Context,
}

impl World {
    async fn start() -> Self {
        let db = TestDb::migrated().await.unwrap();
        let nats = NatsServer::start().await.unwrap();
        let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
        bus::ensure_streams(&js, 1).await.unwrap();
        let mut cli = Cli::new(db);
        for (service, role, var) in [
            (
                "conversation-router",
                "josh_conversation_router",
                "ROUTER_ADMIN_URL",
            ),
            (
                "outbound-sender",
                "josh_outbound_sender",
                "SENDER_ADMIN_URL",
            ),
        ] {
            let pool = cli.db.pool_as(role).await.unwrap();
            let api = dlq_admin::DeadLettersApi::new(pool, js.clone(), service);
            let served = testing::serve(Routes::new(api.into_server())).await;
            cli = cli.with(var, &served.url);
        }
        for var in [
            "INBOUND_ADMIN_URL",
            "MATCHER_ADMIN_URL",
            "BILLING_ADMIN_URL",
        ] {
            cli = cli.with(var, "http://127.0.0.1:9");
        }
        Self {
            cli,
            _nats: nats,
            js,
        }
    }

    async fn run(&self, token: Option<&str>, args: &[&str]) -> std::process::Output {
        self.cli.run(token, args).await
    }

    async fn token(&self, role: &str) -> String {
        testing::token(&self.cli.db.pool, role).await
    }

    /// A dead letter of `consumer` as the bus writes one; returns (its id, the event id).
    async fn dead_letter(&self, consumer: &str) -> (u64, String) {
        let envelope = proto::Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            ..proto::Envelope::for_payload(proto::v1::ProfileUpdated::default())
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Josh-Original-Subject", ORIGINAL);
        headers.insert("Josh-Dlq-Reason", "handler failed: boom");
        headers.insert("Josh-Deliveries", "5");
        headers.insert("Josh-Failed-At", "2026-12-06T03:30:00Z");
        let ack = self
            .js
            .publish_with_headers(
                format!("josh.dlq.{consumer}"),
                headers,
                envelope.encode_to_vec().into(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        (ack.sequence, envelope.event_id)
    }

    async fn replayed_onto_the_events_stream(&self) -> u64 {
        let mut stream = self
            .js
            .get_stream(bus::subjects::EVENTS_STREAM)
            .await
            .unwrap();
        stream.info().await.unwrap().state.messages
    }
}

#[tokio::test]
async fn dlq_list_shows_every_reachable_services_letters_as_a_table_or_json() {
    let w = World::start().await;
    let support = w.token("support").await;
    let out = w.run(Some(&support), &["dlq", "list"]).await;
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("no dead letters"), "{out:?}");

    let (router_id, router_event) = w.dead_letter("conversation-router").await;
    let (sender_id, _) = w.dead_letter("outbound-sender").await;
    let out = w.run(Some(&support), &["dlq", "list"]).await;
    assert!(out.status.success(), "{out:?}");
    let table = stdout(&out);
    assert!(table.starts_with("    ID  SERVICE"), "{table}");
    for needle in [
        "conversation-router",
        "outbound-sender",
        "identity.profile_updated",
        ORIGINAL,
        "handler failed: boom",
        "2026-12-06T03:30:00Z",
    ] {
        assert!(table.contains(needle), "{needle} in {table}");
    }
    let lines: Vec<&str> = table.lines().skip(1).collect();
    assert!(lines[0].trim_start().starts_with(&router_id.to_string()));
    assert!(lines[1].trim_start().starts_with(&sender_id.to_string()));
    for skipped in ["inbound-sms", "linkup-matcher", "billing"] {
        assert!(
            stderr(&out).contains(&format!("skipped {skipped}")),
            "{out:?}"
        );
    }

    let args = ["dlq", "list", "--service", "conversation-router", "--json"];
    let out = w.run(Some(&support), &args).await;
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let letters = json["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1, "{json}");
    assert_eq!(letters[0]["id"], router_id);
    assert_eq!(letters[0]["event_id"], router_event);
    assert_eq!(letters[0]["attempts"], 5);
    assert!(letters[0].get("payload").is_none());

    let out = w
        .run(Some(&support), &["dlq", "list", "--service", "nope"])
        .await;
    assert!(stderr(&out).contains("unknown service \"nope\""), "{out:?}");
    let out = w
        .run(Some(&support), &["dlq", "list", "--service", "billing"])
        .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot reach the admin API"),
        "{out:?}"
    );
    let out = w.run(None, &["dlq", "list"]).await;
    assert!(
        stderr(&out).contains("JOSH_ADMIN_TOKEN is missing"),
        "{out:?}"
    );
}

#[tokio::test]
async fn dlq_replay_finds_the_service_holding_an_id_and_replays_all_with_a_reason() {
    let w = World::start().await;
    let (router_id, _) = w.dead_letter("conversation-router").await;
    w.dead_letter("outbound-sender").await;
    let (support, ops) = (w.token("support").await, w.token("ops").await);
    let id = router_id.to_string();

    let out = w
        .run(Some(&support), &["dlq", "replay", &id, "--reason", "fixed"])
        .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("permission denied"), "{out:?}");
    let out = w.run(Some(&ops), &["dlq", "replay", &id]).await;
    assert!(
        !out.status.success() && stderr(&out).contains("--reason"),
        "{out:?}"
    );
    let out = w.run(Some(&ops), &["dlq", "replay", "--reason", "x"]).await;
    assert!(!out.status.success(), "an id or --all: {out:?}");

    let out = w
        .run(Some(&ops), &["dlq", "replay", &id, "--reason", "fixed"])
        .await;
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!("replayed {id} of conversation-router")) && text.contains(ORIGINAL),
        "{text}"
    );
    assert_eq!(w.replayed_onto_the_events_stream().await, 1);

    let args = [
        "dlq",
        "replay",
        "--all",
        "--service",
        "outbound-sender",
        "--reason",
        "all clear",
    ];
    let out = w.run(Some(&ops), &args).await;
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("1 dead letter(s) replayed"),
        "{out:?}"
    );
    assert_eq!(w.replayed_onto_the_events_stream().await, 2);

    let out = w
        .run(Some(&ops), &["dlq", "replay", &id, "--reason", "again"])
        .await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not found"), "{out:?}");

    let (extra, _) = w.dead_letter("conversation-router").await;
    let args = [
        "dlq",
        "discard",
        &extra.to_string(),
        "--reason",
        "test traffic",
    ]
    .map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = w.run(Some(&ops), &args).await;
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("discarded"), "{out:?}");
    assert_eq!(w.replayed_onto_the_events_stream().await, 2, "not replayed");

    let replays = testing::audit_rows(&w.cli.db.pool, "dlq.replay").await;
    let outcomes: Vec<_> = replays.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(outcomes, [Some("denied".to_owned()), None, None]);
    assert_eq!(
        testing::audit_rows(&w.cli.db.pool, "dlq.discard")
            .await
            .len(),
        1
    );
}
