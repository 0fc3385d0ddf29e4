//! `joshctl retention run` and `joshctl rekey` against a real database, with stdout not a
//! terminal: plain progress lines that end at the rows changed, a summary, and `--json` (the
//! summary alone on stdout, progress on stderr).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::process::Output;

use crypto::Keyring;
use testkit::TestDb;
use time::{Duration, OffsetDateTime};

const K1: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const K2: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

async fn joshctl(db: &TestDb, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_joshctl"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .env("JOSH_ENCRYPTION_KEYS", format!("{K2},{K1}"))
        .env("JOSH_ACTIVE_KEY_VERSION", "2")
        .output()
        .await
        .unwrap()
}

/// An inbound message with a body under `ring`'s active key, created `age` ago.
async fn message(db: &TestDb, ring: &Keyring, sid: &str, age: Duration) {
    let body = ring.encrypt_str("hello", sid.as_bytes()).unwrap();
    sqlx::query(
        "insert into sms_messages (direction, from_e164, to_e164, twilio_message_sid, body_ciphertext,
                                   body_iv, body_tag, key_version, created_at)
         values ('in', '+15555550100', '+15005550006', $1, $2, $3, $4, $5, $6)",
    )
    .bind(sid)
    .bind(&body.ciphertext)
    .bind(body.nonce.to_vec())
    .bind(body.tag.to_vec())
    .bind(body.key_version)
    .bind(OffsetDateTime::now_utc() - age)
    .execute(&db.pool)
    .await
    .unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn retention_prints_progress_lines_and_a_summary_or_json() {
    let db = TestDb::migrated().await.unwrap();
    let ring = Keyring::from_config(K1, "1").unwrap();
    for n in 0..3 {
        message(&db, &ring, &format!("SMold{n}"), Duration::days(40)).await;
    }
    message(&db, &ring, "SMnew", Duration::days(1)).await;

    let out = joshctl(&db, &["retention", "run", "--batch", "2"]).await;
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("retention: 0/3 rows (0%)"), "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("retention: 3/3 rows (100%)")),
        "the last batch is always shown: {stdout}"
    );
    assert_eq!(
        lines.last().copied(),
        Some("retention: 3 message and 0 job bodies older than 30 days nulled")
    );

    message(&db, &ring, "SMold9", Duration::days(40)).await;
    let out = joshctl(&db, &["retention", "run", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["job"], "retention");
    assert_eq!(json["messages"], 1);
    assert_eq!(json["jobs"], 0);
    assert!(
        text(&out.stderr).contains("retention: 1/1 rows (100%)"),
        "{out:?}"
    );
}

#[tokio::test]
async fn rekey_reports_progress_and_what_is_left_under_old_keys() {
    let db = TestDb::migrated().await.unwrap();
    let old = Keyring::from_config(K1, "1").unwrap();
    for n in 0..5 {
        message(&db, &old, &format!("SM{n}"), Duration::hours(1)).await;
    }
    let out = joshctl(&db, &["rekey", "--to", "2", "--batch", "2", "--json"]).await;
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["changed"], 5);
    assert_eq!(json["left"], serde_json::json!([]));
    assert_eq!(json["old_keys_retirable"], true);
    assert!(
        text(&out.stderr).contains("rekey: 5/5 rows (100%)"),
        "{out:?}"
    );

    let out = joshctl(&db, &["rekey", "--to", "2"]).await;
    assert!(out.status.success(), "{out:?}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rekey: 0 bodies now under key 2"),
        "{stdout}"
    );
    assert!(stdout.contains("older keys can be retired"), "{stdout}");
}
