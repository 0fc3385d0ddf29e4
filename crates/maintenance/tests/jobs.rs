//! Retention and rekey against a real, migrated database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crypto::Keyring;
use sqlx::PgPool;
use testkit::TestDb;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const K1: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const K2: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
/// A stored body: SID, key version, ciphertext, nonce, tag.
type StoredBody = (String, i32, Vec<u8>, Vec<u8>, Vec<u8>);

const NOW: OffsetDateTime = datetime!(2026-11-30 12:00 UTC);

async fn message(pool: &PgPool, ring: &Keyring, sid: &str, created: OffsetDateTime) {
    let body = ring
        .encrypt_str(&format!("text of {sid}"), sid.as_bytes())
        .unwrap();
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
    .bind(created)
    .execute(pool)
    .await
    .unwrap();
}

async fn job(pool: &PgPool, ring: &Keyring, key: &str, status: &str, created: OffsetDateTime) {
    let body = ring
        .encrypt_str(&format!("reply {key}"), key.as_bytes())
        .unwrap();
    sqlx::query(
        "insert into sms_outbound_jobs (to_e164, body_ciphertext, body_iv, body_tag, key_version,
                                        purpose, status, idempotency_key, created_at)
         values ('+15555550100', $1, $2, $3, $4, 'reply', $5, $6, $7)",
    )
    .bind(&body.ciphertext)
    .bind(body.nonce.to_vec())
    .bind(body.tag.to_vec())
    .bind(body.key_version)
    .bind(status)
    .bind(key)
    .bind(created)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn retention_nulls_exactly_the_old_bodies_and_keeps_metadata() {
    let db = TestDb::migrated().await.unwrap();
    let ring = Keyring::from_config(K1, "1").unwrap();
    let old = NOW - Duration::days(31);
    let recent = NOW - Duration::days(29);
    message(&db.pool, &ring, "SMold", old).await;
    message(&db.pool, &ring, "SMrecent", recent).await;
    job(&db.pool, &ring, "reply:old-sent", "sent", old).await;
    job(&db.pool, &ring, "reply:old-pending", "pending", old).await;
    job(&db.pool, &ring, "reply:recent", "sent", recent).await;

    let report = maintenance::retention::run(&db.pool, NOW, Duration::days(30), 1, |_| {})
        .await
        .unwrap();
    assert_eq!((report.messages, report.jobs), (1, 1));
    let nulled = "select twilio_message_sid from sms_messages where body_ciphertext is null and body_iv is null and body_tag is null";
    let gone: Vec<String> = sqlx::query_scalar(nulled)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(gone, ["SMold"]);
    let kept: Vec<String> = sqlx::query_scalar(
        "select idempotency_key from sms_outbound_jobs where body_ciphertext is not null order by idempotency_key",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        kept,
        ["reply:old-pending", "reply:recent"],
        "a pending job keeps its body"
    );
    assert_eq!(
        count(&db.pool, "select count(*) from sms_messages").await,
        2,
        "rows stay"
    );
    let again = maintenance::retention::run(&db.pool, NOW, Duration::days(30), 1, |_| {})
        .await
        .unwrap();
    assert_eq!((again.messages, again.jobs), (0, 0));
}

#[tokio::test]
async fn rekey_under_live_writes_leaves_nothing_under_the_old_key() {
    let db = TestDb::migrated().await.unwrap();
    let old_ring = Keyring::from_config(K1, "1").unwrap();
    for n in 0..120 {
        message(&db.pool, &old_ring, &format!("SM{n:04}"), NOW).await;
        job(&db.pool, &old_ring, &format!("reply:{n:04}"), "sent", NOW).await;
    }
    let ring = Keyring::from_config(&format!("{K2},{K1}"), "2").unwrap();
    // The services keep writing under the new active key while the job runs.
    let writer = {
        let (pool, ring) = (db.pool.clone(), ring.clone());
        tokio::spawn(async move {
            for n in 0..60 {
                message(&pool, &ring, &format!("SMlive{n:04}"), NOW).await;
                job(&pool, &ring, &format!("reply:live{n:04}"), "pending", NOW).await;
            }
        })
    };
    let mut reports = Vec::new();
    let changed = maintenance::rekey::run(&db.pool, &ring, 2, 25, |p| reports.push(p))
        .await
        .unwrap();
    writer.await.unwrap();
    assert_eq!(changed, 240);
    assert!(reports.len() > 10, "small committed batches");
    assert_counts_climb_to(&reports, 240);
    assert!(
        maintenance::rekey::left_under_old_keys(&db.pool, 2)
            .await
            .unwrap()
            .is_empty()
    );
    // Every body still decrypts, bound to its row.
    let rows: Vec<StoredBody> = sqlx::query_as(
        "select twilio_message_sid, key_version, body_ciphertext, body_iv, body_tag from sms_messages",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 180);
    for (sid, version, ciphertext, nonce, tag) in rows {
        let body = crypto::EncryptedBody::from_parts(version, &nonce, &ciphertext, &tag).unwrap();
        let text = ring.decrypt_to_string(&body, sid.as_bytes()).unwrap();
        use crypto::ExposeSecret;
        assert_eq!(text.expose_secret(), &format!("text of {sid}"));
    }
    let wrong = maintenance::rekey::run(&db.pool, &ring, 1, 25, |_| {}).await;
    assert!(matches!(
        wrong,
        Err(maintenance::MaintenanceError::NotActive(1))
    ));
}

/// `reports` start at 0 of `total`, never go down, and end at `total` done: each batch adds
/// exactly what it changed.
fn assert_counts_climb_to(reports: &[maintenance::Progress], total: u64) {
    assert_eq!(
        (reports[0].done, reports[0].total),
        (0, total),
        "{reports:?}"
    );
    for pair in reports.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        assert_eq!(after.done, before.done + after.batch, "{pair:?}");
        assert!(after.batch > 0 && after.total >= before.total, "{pair:?}");
    }
    let last = reports.last().unwrap();
    assert_eq!((last.done, last.total), (total, total), "{reports:?}");
}

#[tokio::test]
async fn retention_reports_progress_that_adds_up_to_the_bodies_it_nulled() {
    let db = TestDb::migrated().await.unwrap();
    let ring = Keyring::from_config(K1, "1").unwrap();
    let old = NOW - Duration::days(40);
    for n in 0..5 {
        message(&db.pool, &ring, &format!("SMold{n}"), old).await;
    }
    for n in 0..3 {
        job(&db.pool, &ring, &format!("reply:old{n}"), "sent", old).await;
    }
    message(&db.pool, &ring, "SMnew", NOW).await;
    let due = maintenance::retention::due(&db.pool, NOW, Duration::days(30))
        .await
        .unwrap();
    assert_eq!((due.messages, due.jobs), (5, 3));

    let mut reports = Vec::new();
    let report = maintenance::retention::run(&db.pool, NOW, Duration::days(30), 2, |p| {
        reports.push(p);
    })
    .await
    .unwrap();
    assert_eq!((report.messages, report.jobs), (5, 3));
    assert_counts_climb_to(&reports, 8);
    let tables: Vec<&str> = reports[1..].iter().map(|p| p.table).collect();
    assert_eq!(
        tables,
        [
            "sms_messages",
            "sms_messages",
            "sms_messages",
            "sms_outbound_jobs",
            "sms_outbound_jobs"
        ],
        "batches of at most 2"
    );
}
