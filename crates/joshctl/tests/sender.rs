//! `joshctl sender status|pause|resume` against outbound-sender's admin API served in-process on
//! port 0 over a real database: readable tables, `--json`, and clear refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::Arc;
use std::time::Duration;

use admin_auth::testing;
use common::{Cli, stderr, stdout};
use outbound_sender::admin::SenderAdminApi;
use outbound_sender::{Outbound, Parts, Settings, Tuning};
use testkit::TestDb;
use tonic::service::Routes;

async fn setup() -> Cli {
    let db = TestDb::migrated().await.unwrap();
    let pool = db.pool_as("josh_outbound_sender").await.unwrap();
    let client = twilio::client::MessagesClient::new(
        "http://127.0.0.1:9",
        "AC00000000000000000000000000000000",
        secrecy::SecretString::from("unused"),
        Duration::from_secs(1),
    )
    .unwrap();
    let sender = twilio::client::Sender::From("+15005550006".to_owned());
    let outbound = Outbound::new(Parts {
        pool,
        keyring: crypto::Keyring::from_config(
            "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
            "2",
        )
        .unwrap(),
        pepper: crypto::PhonePepper::new("test-pepper").unwrap(),
        client,
        clock: Arc::new(platform::clock::SystemClock),
        settings: Settings::new(sender, "https://josh.example", &Tuning::default()),
    });
    let served = testing::serve(Routes::new(SenderAdminApi::new(outbound).into_server())).await;
    Cli::new(db).with("SENDER_ADMIN_URL", &served.url)
}

#[tokio::test]
async fn sender_pause_status_and_resume_print_tables_json_and_clear_refusals() {
    let cli = setup().await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let support = cli.token("support@josh.example", "support").await;

    let calm = cli.run(Some(&support), &["sender", "status"]).await;
    assert!(
        stdout(&calm).contains("no sender is paused"),
        "{}",
        stderr(&calm)
    );

    let pause = ["sender", "pause", "*", "--reason", "incident 42"];
    let denied = cli.run(Some(&support), &pause).await;
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );
    let anonymous = cli.run(None, &pause).await;
    assert!(
        stderr(&anonymous).contains("JOSH_ADMIN_TOKEN is missing"),
        "{}",
        stderr(&anonymous)
    );
    let bad = cli
        .run(Some(&ops), &["sender", "pause", "5550006", "--reason", "x"])
        .await;
    assert!(stderr(&bad).contains("invalid request"), "{}", stderr(&bad));

    let paused = cli.run(Some(&ops), &pause).await;
    assert!(
        stdout(&paused).contains("sender * is paused"),
        "{}",
        stderr(&paused)
    );
    let table = cli.run(Some(&support), &["sender", "status"]).await;
    let table = stdout(&table);
    assert!(
        table.contains("PAUSED SENDER") && table.contains("incident 42"),
        "{table}"
    );
    assert!(table.contains("ops@josh.example"), "{table}");
    let json = cli
        .run(Some(&support), &["sender", "status", "--json"])
        .await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(json["paused"][0]["sender"], "*");
    assert_eq!(json["paused"][0]["paused_by"], "ops@josh.example");

    let resume = ["sender", "resume", "*", "--reason", "over", "--json"];
    let resumed = cli.run(Some(&ops), &resume).await;
    let resumed: serde_json::Value = serde_json::from_str(&stdout(&resumed)).unwrap();
    assert_eq!(resumed["was_paused"], true);
    let resend = [
        "sender",
        "resend",
        &uuid::Uuid::new_v4().to_string(),
        "--reason",
        "x",
    ];
    let missing = cli.run(Some(&ops), &resend).await;
    assert!(
        stderr(&missing).contains("not found"),
        "{}",
        stderr(&missing)
    );

    let audited: Vec<(String, Option<String>)> = sqlx::query_as(
        "select action, payload->>'outcome' from admin_audit_log
          where action in ('sender.pause', 'sender.resume') order by created_at, id",
    )
    .fetch_all(&cli.db.pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        [
            ("sender.pause".to_owned(), Some("denied".to_owned())),
            ("sender.pause".to_owned(), None),
            ("sender.resume".to_owned(), None),
        ]
    );
}
