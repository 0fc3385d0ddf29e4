//! `joshctl user messages` and `joshctl user export` against the router's, inbound-sms's and
//! outbound-sender's admin APIs served in-process on port 0 over one real database: texts of both
//! directions in time order, bodies only for support and engineering with a reason, one JSON
//! object keyed by service with the person's rows and nobody else's, a service that does not
//! implement the export skipped with a warning, clear refusals, audit rows.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use admin_auth::testing;
use common::{Cli, serve_router, stderr, stdout};
use testkit::TestDb;

const KEYS: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const ADA: &str = "+15555550481";
const BOB: &str = "+15555550482";
const JOSH: &str = "+15005550006";

fn keyring() -> crypto::Keyring {
    crypto::Keyring::from_config(KEYS, "2").unwrap()
}

/// A text `phone` sent JOSH `minutes` ago, stored as inbound-sms stores it.
async fn text_in(db: &TestDb, phone: &str, body: &str, minutes: i32) {
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let sealed = keyring().encrypt_str(body, sid.as_bytes()).unwrap();
    sqlx::query(
        "insert into sms_messages (user_id, direction, from_e164, to_e164, twilio_message_sid,
            key_version, body_iv, body_ciphertext, body_tag, status, created_at)
         select u.id, 'in', $1, $2, $3, $4, $5, $6, $7, 'received',
                now() - make_interval(mins => $8)
           from users u where u.phone_e164 = $1",
    )
    .bind(phone)
    .bind(JOSH)
    .bind(&sid)
    .bind(sealed.key_version)
    .bind(sealed.nonce.as_slice())
    .bind(sealed.ciphertext.as_slice())
    .bind(sealed.tag.as_slice())
    .bind(minutes)
    .execute(&db.pool)
    .await
    .unwrap();
}

/// A text JOSH sent `phone` `minutes` ago, as outbound-sender's job stores it.
async fn text_out(db: &TestDb, phone: &str, body: &str, minutes: i32) {
    let sid = format!("SM{}", uuid::Uuid::new_v4().simple());
    let key = format!("test:{sid}");
    let sealed = keyring().encrypt_str(body, key.as_bytes()).unwrap();
    sqlx::query(
        "insert into sms_outbound_jobs (user_id, to_e164, phone_hash, key_version, body_iv,
            body_ciphertext, body_tag, purpose, status, twilio_message_sid, delivery_status,
            sender, idempotency_key, created_at)
         select u.id, $1, u.phone_hash, $2, $3, $4, $5, 'reply', 'sent', $6, 'delivered', $7,
                $8, now() - make_interval(mins => $9)
           from users u where u.phone_e164 = $1",
    )
    .bind(phone)
    .bind(sealed.key_version)
    .bind(sealed.nonce.as_slice())
    .bind(sealed.ciphertext.as_slice())
    .bind(sealed.tag.as_slice())
    .bind(&sid)
    .bind(JOSH)
    .bind(&key)
    .bind(minutes)
    .execute(&db.pool)
    .await
    .unwrap();
}

/// Ada texted in, JOSH answered, she answered back; Bob has one text each way. Returns the CLI
/// and outbound-sender's admin URL.
async fn setup() -> (Cli, String) {
    let db = TestDb::migrated().await.unwrap();
    sqlx::raw_sql(
        r#"insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state,
                              sms_consent, age_consent, terms_consent, privacy_consent)
           values ('+15555550481', 'hash-481', 'Ada', 'Tester', '1990-05-17', 'verified',
                   true, true, true, true),
                  ('+15555550482', 'hash-482', 'Bob', 'Other', '1991-06-18', 'verified',
                   true, true, true, true);"#,
    )
    .execute(&db.pool)
    .await
    .unwrap();
    text_in(&db, ADA, "hi JOSH", 30).await;
    text_out(&db, ADA, "Welcome to JOSH!", 29).await;
    text_in(&db, ADA, "yes please", 28).await;
    text_in(&db, BOB, "Bob's own words", 27).await;
    text_out(&db, BOB, "Bob's invite", 26).await;
    let router = serve_router(&db).await;
    let inbound = common::serve_inbound(&db, keyring()).await;
    let sender = common::serve_sender(&db, keyring(), JOSH).await;
    let matcher = common::serve_matcher(&db).await;
    let billing = common::serve_billing(&db).await;
    let cli = Cli::new(db)
        .with("ROUTER_ADMIN_URL", &router.url)
        .with("INBOUND_ADMIN_URL", &inbound.url)
        .with("MATCHER_ADMIN_URL", &matcher.url)
        .with("BILLING_ADMIN_URL", &billing.url)
        .with("SENDER_ADMIN_URL", &sender.url);
    (cli, sender.url)
}

#[tokio::test]
async fn user_messages_merges_both_directions_and_shows_bodies_only_when_allowed() {
    let (cli, _) = setup().await;
    let support = testing::token(&cli.db.pool, "support").await;
    let ops = testing::token(&cli.db.pool, "ops").await;

    let table = cli.run(Some(&ops), &["user", "messages", ADA]).await;
    let out = stdout(&table);
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(out.contains("3 text(s), 2 in, 1 out"), "{out}");
    assert!(out.contains("DIR") && out.contains("reply"), "{out}");
    assert!(!out.contains("hi JOSH") && !out.contains("BODY"), "{out}");

    let denied = cli
        .run(
            Some(&ops),
            &["user", "messages", ADA, "--bodies", "--reason", "curious"],
        )
        .await;
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );
    let no_reason = cli
        .run(Some(&support), &["user", "messages", ADA, "--bodies"])
        .await;
    assert!(!no_reason.status.success());
    assert!(
        stderr(&no_reason).contains("--reason"),
        "{}",
        stderr(&no_reason)
    );
    let anonymous = cli.run(None, &["user", "messages", ADA]).await;
    assert!(stderr(&anonymous).contains("JOSH_ADMIN_TOKEN is missing"));

    let args = ["user", "messages", ADA, "--bodies", "--reason", "ticket 1"];
    let read = cli.run(Some(&support), &args).await;
    let out = stdout(&read);
    assert!(read.status.success(), "{}", stderr(&read));
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {out}"))
    };
    assert!(at("hi JOSH") < at("Welcome to JOSH!") && at("Welcome to JOSH!") < at("yes please"));
    assert!(!out.contains("Bob"), "{out}");

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = cli.run(Some(&support), &json_args).await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let order: Vec<(&str, &str)> = json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap(),
                m["body"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("in", "hi JOSH"),
            ("out", "Welcome to JOSH!"),
            ("in", "yes please")
        ]
    );
    assert_eq!(json["bodies_included"], true);

    // inbound-sms refused ops' request for bodies, so outbound-sender was not asked.
    let outcomes = |rows: Vec<testing::AuditRow>| -> Vec<Option<String>> {
        rows.into_iter().map(|r| r.outcome).collect()
    };
    let inbound = testing::audit_rows(&cli.db.pool, "messages.inbound").await;
    let denied = Some("denied".to_owned());
    assert_eq!(outcomes(inbound), [None, denied, None, None]);
    let outbound = testing::audit_rows(&cli.db.pool, "messages.outbound").await;
    assert_eq!(outcomes(outbound), [None, None, None]);
}

#[tokio::test]
async fn user_export_writes_one_object_keyed_by_service_with_only_the_persons_rows() {
    let (cli, sender_url) = setup().await;
    let support = testing::token(&cli.db.pool, "support").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ada.json");
    let path_arg = path.to_str().unwrap();
    let args = [
        "user",
        "export",
        ADA,
        "--reason",
        "access request 9",
        "--out",
        path_arg,
    ];
    let done = cli.run(Some(&support), &args).await;
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stderr(&done).contains("from 5 service(s)"),
        "{}",
        stderr(&done)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let services: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        services,
        [
            "billing",
            "conversation-router",
            "inbound-sms",
            "linkup-matcher",
            "outbound-sender"
        ]
    );
    assert_eq!(doc["conversation-router"]["users"][0]["first_name"], "Ada");
    assert_eq!(doc["inbound-sms"]["sms_messages"][0]["body"], "hi JOSH");
    assert_eq!(
        doc["outbound-sender"]["sms_outbound_jobs"][0]["body"],
        "Welcome to JOSH!"
    );
    for other in ["Bob", BOB, "hash-481"] {
        assert!(!text.contains(other), "{other} in {text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner may read an export");
    }
    let again = cli.run(Some(&support), &args).await;
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );

    let ops = testing::token(&cli.db.pool, "ops").await;
    let denied = cli
        .run(Some(&ops), &["user", "export", ADA, "--reason", "x"])
        .await;
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );

    // A service without ExportUser (here: an address serving only SenderAdmin) is skipped.
    let cli = cli.with("INBOUND_ADMIN_URL", &sender_url);
    let skip = cli
        .run(Some(&support), &["user", "export", ADA, "--reason", "r"])
        .await;
    assert!(skip.status.success(), "{}", stderr(&skip));
    assert!(
        stderr(&skip).contains("warning: inbound-sms does not export"),
        "{}",
        stderr(&skip)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&skip)).unwrap();
    assert!(doc.get("inbound-sms").is_none() && doc.get("outbound-sender").is_some());

    let audit = testing::audit_rows(&cli.db.pool, "user.export").await;
    let services: Vec<(&str, Option<&str>)> = audit
        .iter()
        .map(|r| (r.payload["service"].as_str().unwrap(), r.outcome.as_deref()))
        .collect();
    assert_eq!(
        services,
        [
            ("conversation-router", None),
            ("inbound-sms", None),
            ("linkup-matcher", None),
            ("billing", None),
            ("outbound-sender", None),
            ("conversation-router", Some("denied")),
            ("conversation-router", None),
            ("linkup-matcher", None),
            ("billing", None),
            ("outbound-sender", None),
        ]
    );
}
