//! The sender's hot statements in a backlog, under a queue's usual statistics (gathered when no
//! job was pending, or none at all): a claim and a settle each read a handful of index entries,
//! never one per pending job nor the sent history. Counted with Postgres's own counters
//! (`pg_stat_user_indexes`, `pg_stat_user_tables`), so a plan that walks the backlog or the
//! table fails here however fast the machine.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use sqlx::{Connection, PgConnection};
use time::{Duration, OffsetDateTime};

/// Jobs sent before the statistics were gathered.
const HISTORY: i64 = 3_000;
/// Numbers with pending jobs, and pending jobs per number.
const NUMBERS: i64 = 200;
const PER_NUMBER: i64 = 3;
/// Claims measured (past the first five, prepared statements may switch to a generic plan).
const CLAIMS: i64 = 20;
/// Index entries and rows one claim plus one settle may read: the due walk's head and the
/// `others_due` probe's (jobs settled earlier in the test: up to 19 each when other work on the
/// server keeps them from being marked dead), a probe per candidate, the settle's primary-key
/// lookup. 11 a send alone, 30 beside the whole suite; the plans this guards against read 212
/// and 1,303.
const ENTRIES_PER_SEND: i64 = 60;

async fn seed(conn: &mut PgConnection, now: OffsetDateTime) {
    sqlx::query(
        "insert into sms_outbound_jobs
           (to_e164, phone_hash, purpose, status, idempotency_key, twilio_message_sid, segments,
            run_at, created_at, sent_at)
         select '+1555' || lpad((n % 700)::text, 7, '0'), 'hash-' || (n % 700), 'reply', 'sent',
                'history:' || n, 'SM' || lpad(n::text, 32, '0'), 1, $1, $1, $1
           from generate_series(1, $2) n",
    )
    .bind(now - Duration::hours(1))
    .bind(HISTORY)
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query("analyze sms_outbound_jobs")
        .execute(&mut *conn)
        .await
        .unwrap();
    // The backlog arrives after the statistics: to them, no job is pending.
    sqlx::query(
        "insert into sms_outbound_jobs
           (to_e164, phone_hash, purpose, status, idempotency_key, segments, run_at, created_at)
         select '+1666' || lpad((n % $2)::text, 7, '0'), 'hash', 'reply', 'pending',
                'backlog:' || n, 1, $1 - make_interval(secs => ($3 - n) / 1000.0),
                $1 - make_interval(secs => ($3 - n) / 1000.0)
           from generate_series(1, $3) n",
    )
    .bind(now)
    .bind(NUMBERS)
    .bind(NUMBERS * PER_NUMBER)
    .execute(&mut *conn)
    .await
    .unwrap();
}

/// Index entries and heap rows of `sms_outbound_jobs` scanned so far in this database.
async fn entries_read(conn: &mut PgConnection) -> i64 {
    // This backend's counters reach the shared statistics when it goes idle after a forced
    // flush; the next statement, a transaction of its own, reads them afresh.
    sqlx::query("select pg_stat_force_next_flush()")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query_scalar(
        "select ((select coalesce(sum(idx_tup_read), 0) from pg_stat_user_indexes
                  where relname = 'sms_outbound_jobs')
              + (select seq_tup_read from pg_stat_user_tables
                  where relname = 'sms_outbound_jobs'))::bigint",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn claims_and_settles_read_a_few_entries_whatever_the_backlog() {
    let db = testkit::TestDb::migrated().await.unwrap();
    let mut conn = PgConnection::connect_with(&db.connect_options())
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    seed(&mut conn, now).await;
    let before = entries_read(&mut conn).await;
    let mut claimed = Vec::new();
    let body = crypto::EncryptedBody::from_parts(1, &[0; 12], b"sealed", &[0; 16]).unwrap();
    for n in 0..CLAIMS {
        let mut tx = conn.begin().await.unwrap();
        // As the service runs: its role, under its row-level security policy.
        sqlx::query("set local role josh_outbound_sender")
            .execute(&mut *tx)
            .await
            .unwrap();
        let claim = super::claim::claim_due(&mut tx, now, now + Duration::minutes(1), "w1", "MG1")
            .await
            .unwrap()
            .expect("a job is due");
        // Every number has two later jobs, and other numbers' jobs wait.
        assert!(claim.others_due && claim.number_has_more);
        let sid = format!("SMplan{n:026}");
        let message = super::sent::NewMessage {
            user_id: None,
            from: "+15550000000",
            to: &claim.job.to_e164,
            sid: &sid,
            body: &body,
            status: "queued",
            num_segments: 1,
            correlation_id: None,
            at: now,
        };
        let event = sent_event(claim.job.id);
        let done = super::sent::record_sent(
            &mut tx,
            claim.job.id,
            &message,
            &event,
            bus::Notify::AtCommit,
        );
        assert!(done.await.unwrap().recorded);
        tx.commit().await.unwrap();
        claimed.push(claim.job.to_e164);
    }
    let read = entries_read(&mut conn).await - before;
    assert!(
        read <= CLAIMS * ENTRIES_PER_SEND,
        "{CLAIMS} claims and settles read {read} index entries and rows ({} a send) in a backlog of {}",
        read / CLAIMS,
        NUMBERS * PER_NUMBER
    );
    // Due order: the oldest jobs first, which here are one per number.
    let expected: Vec<String> = (1..=CLAIMS)
        .map(|n| format!("+1666{:07}", n % NUMBERS))
        .collect();
    assert_eq!(claimed, expected);
}

/// An `sms.sent` outbox row for job `id`.
fn sent_event(id: uuid::Uuid) -> bus::outbox::OutboxRow {
    let envelope = proto::Envelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        producer: crate::SERVICE.to_owned(),
        idempotency_key: format!("sms.sent:{id}"),
        partition_key: id.to_string(),
        ..proto::Envelope::for_payload(proto::v1::SmsSent::default())
    };
    bus::outbox::OutboxRow::prepare(&envelope).unwrap()
}
