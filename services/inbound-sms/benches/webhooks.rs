//! Benchmark: signed inbound-SMS webhooks per second and answer latency, against the raw
//! Postgres insert rate of the same rows measured with `pgbench` in the same run.
//!
//! Starts the whole service in-process (its own Postgres role, the outbox relay, a private
//! nats-server with a file store) against a fresh migrated database, fires `requests` distinct
//! signed webhooks (10 % from registered users) over `connections` concurrent HTTP connections,
//! and reports throughput and p50/p95/p99/max latency at saturation (closed loop: each
//! connection sends its next request when the last one is answered); then `rate` requests/s
//! for 20 s in an open loop (latency counted from each request's scheduled time, so queueing
//! is not hidden), the latency Twilio sees at that load.
//!
//! Then it stops the service and runs `pgbench -n -c 64 -j 2 -T 10` against the same database,
//! into scratch copies of the tables: (a) one row per transaction into a table shaped like
//! `sms_messages` (the raw insert rate); (b) the three rows a webhook commits (the SID claim
//! with the user lookup, the `message_events` row, the outbox row with its NOTIFY trigger) in
//! one statement; (c) the same rows as begin / three inserts / commit.
//!
//! `cargo bench -p inbound-sms --bench webhooks -- [requests] [connections] [rate]`
//! (defaults 20000, 64, 500). `BENCH_WITHOUT_OUTBOX_NOTIFY=1` drops the outbox's NOTIFY trigger
//! first, to measure what it costs. Needs local Postgres (`TEST_DATABASE_URL`), `pgbench` on PATH and
//! nats-server. Figures are recorded in docs/benchmarks.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use inbound_sms::{Config, Service};
use platform::config::Env;
use testkit::service::service_env;
use testkit::{NatsServer, TestDb, wait_until};
use tokio::sync::{Mutex, Semaphore};
use tokio_util::sync::CancellationToken;
use twilio::webhook::FormParams;

const TOKEN: &str = "test-twilio-auth-token";
const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
const BASE_URL: &str = "https://josh.example.com";
const PATH: &str = "/v1/twilio/sms";
const PHONES: usize = 2000;
const PGBENCH_SECONDS: u32 = 10;

fn phone(i: usize) -> String {
    format!("+1415{:07}", 5_000_000 + (i % PHONES))
}

/// A signed webhook: (body, signature).
fn webhook(i: usize, run: &str) -> (String, String) {
    let sid = format!("SM{run}{i:030x}");
    let from = phone(i);
    let text = format!("Coffee on Saturday morning? Message {i} from the benchmark.");
    let pairs: Vec<(String, String)> = [
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", &sid),
        ("NumMedia", "0"),
        ("ToCity", "SAUSALITO"),
        ("FromZip", "94103"),
        ("SmsSid", &sid),
        ("FromState", "CA"),
        ("SmsStatus", "received"),
        ("FromCity", "SAN FRANCISCO"),
        ("Body", &text),
        ("FromCountry", "US"),
        ("To", "+15558675310"),
        ("ToZip", "94965"),
        ("NumSegments", "1"),
        ("MessageSid", &sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", &from),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let signature = twilio::signature::sign(TOKEN, &format!("{BASE_URL}{PATH}"), &pairs);
    (FormParams::from_pairs(pairs).to_body(), signature)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// Sends request `i` and records its latency from `scheduled`.
#[derive(Clone)]
struct Sender {
    http: reqwest::Client,
    url: String,
    requests: Arc<Vec<(String, String)>>,
    latencies: Arc<Mutex<Vec<Duration>>>,
}

impl Sender {
    async fn send(&self, i: usize, scheduled: Instant) {
        let (body, signature) = &self.requests[i];
        let response = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        let latency = scheduled.elapsed();
        self.latencies.lock().await.push(latency);
    }
}

async fn fire(
    http: &reqwest::Client,
    url: &str,
    requests: Arc<Vec<(String, String)>>,
    connections: usize,
    rate: usize,
) -> Run {
    let count = requests.len();
    let sender = Sender {
        http: http.clone(),
        url: url.to_owned(),
        requests,
        latencies: Arc::new(Mutex::new(Vec::with_capacity(count))),
    };
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    if rate == 0 {
        // Closed loop: each connection sends its next request when the last one is answered.
        let next = Arc::new(AtomicUsize::new(0));
        for _ in 0..connections {
            let (next, sender) = (next.clone(), sender.clone());
            tasks.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    sender.send(i, Instant::now()).await;
                }
            });
        }
    } else {
        // Open loop: requests leave on schedule (at most `connections` in flight); latency
        // counts from the scheduled time, so queueing behind a slow answer is not hidden.
        let slots = Arc::new(Semaphore::new(connections));
        let interval = Duration::from_secs_f64(1.0 / rate as f64);
        for i in 0..count {
            let scheduled = started + interval.mul_f64(i as f64);
            tokio::time::sleep_until(scheduled.into()).await;
            let permit = slots.clone().acquire_owned().await.unwrap();
            let sender = sender.clone();
            tasks.spawn(async move {
                sender.send(i, scheduled).await;
                drop(permit);
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let elapsed = started.elapsed();
    let mut latencies = std::mem::take(&mut *sender.latencies.lock().await);
    latencies.sort();
    Run { elapsed, latencies }
}

/// Runs pgbench with `script` against `url`; returns transactions per second.
fn pgbench(url: &str, script: &str) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.sql");
    std::fs::write(&path, script).unwrap();
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            "64",
            "-j",
            "2",
            "-T",
            &PGBENCH_SECONDS.to_string(),
            "-f",
        ])
        .arg(&path)
        .arg(url)
        .output()
        .expect("pgbench is installed with Postgres");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("pgbench printed no tps")
}

/// One row per transaction, shaped like an inbound `sms_messages` row (56-byte body).
const RAW_INSERT: &str = r"
\set n random(1, 2000)
insert into bench_sms_messages
  (direction, from_e164, to_e164, twilio_message_sid, body_ciphertext, body_iv, body_tag,
   key_version, media_count, status, last_status_at, correlation_id)
values ('in', '+1415' || (5000000 + :n), '+15558675310', 'SM' || md5(random()::text || clock_timestamp()::text),
        decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex'),
        decode(substr(md5(random()::text), 1, 24), 'hex'), decode(md5(random()::text), 'hex'),
        2, 0, 'received', now(), gen_random_uuid())
on conflict (twilio_message_sid) do nothing;
";

/// The three rows one webhook commits, in one statement (the least work Postgres can do for
/// them): the claim with the user lookup, the audit row, the outbox row.
const WEBHOOK_ROWS_ONE_STATEMENT: &str = r"
\set n random(1, 2000)
with claimed as (
  insert into bench_sms_messages
    (direction, from_e164, to_e164, twilio_message_sid, body_ciphertext, body_iv, body_tag,
     key_version, media_count, status, last_status_at, correlation_id, user_id)
  values ('in', '+1415' || (5000000 + :n), '+15558675310', 'SM' || md5(random()::text || clock_timestamp()::text),
          decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex'),
          decode(substr(md5(random()::text), 1, 24), 'hex'), decode(md5(random()::text), 'hex'),
          2, 0, 'received', now(), gen_random_uuid(),
          (select id from users where phone_hash = md5(:n::text)))
  on conflict (twilio_message_sid) do nothing
  returning id, user_id, correlation_id, twilio_message_sid
), audit as (
  insert into bench_message_events (user_id, event_type, payload, correlation_id)
  select user_id, 'sms.received',
         jsonb_build_object('message_sid', twilio_message_sid, 'direction', 'in', 'num_segments', 1,
                            'num_media', 0, 'key_version', 2, 'sms_message_id', id),
         correlation_id
  from claimed
)
insert into bench_event_outbox (producer, event_id, subject, event_type, idempotency_key, payload, headers)
select 'pgbench', gen_random_uuid(), 'josh.evt.sms.received.p03', 'sms.received',
       'sms.received:' || twilio_message_sid, decode(repeat(md5(random()::text), 12), 'hex'), '{}'
from claimed;
";

/// The same rows as the webhook's transaction sends them, statement by statement.
const WEBHOOK_TRANSACTION: &str = r"
\set n random(1, 2000)
begin;
insert into bench_sms_messages
  (direction, from_e164, to_e164, twilio_message_sid, body_ciphertext, body_iv, body_tag,
   key_version, media_count, status, last_status_at, correlation_id, user_id)
values ('in', '+1415' || (5000000 + :n), '+15558675310', 'SM' || md5(random()::text || clock_timestamp()::text),
        decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex'),
        decode(substr(md5(random()::text), 1, 24), 'hex'), decode(md5(random()::text), 'hex'),
        2, 0, 'received', now(), gen_random_uuid(),
        (select id from users where phone_hash = md5(:n::text)))
on conflict (twilio_message_sid) do nothing;
insert into bench_message_events (user_id, event_type, payload, correlation_id)
values (null, 'sms.received',
        jsonb_build_object('message_sid', md5(random()::text), 'direction', 'in', 'num_segments', 1,
                           'num_media', 0, 'key_version', 2),
        gen_random_uuid());
insert into bench_event_outbox (producer, event_id, subject, event_type, idempotency_key, payload, headers)
values ('pgbench', gen_random_uuid(), 'josh.evt.sms.received.p03', 'sms.received',
        'sms.received:' || md5(random()::text || clock_timestamp()::text),
        decode(repeat(md5(random()::text), 12), 'hex'), '{}');
commit;
";

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(20_000);
    let connections = args.get(1).copied().unwrap_or(64).max(1);
    let rate = args.get(2).copied().unwrap_or(500).max(1);

    let db = TestDb::migrated().await.unwrap();
    let nats = NatsServer::start().await.unwrap();
    let role_url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3Djosh_inbound_sms",
        db.postgres_addr().unwrap(),
        db.name
    );
    let env: Vec<(String, String)> = service_env(&role_url, &nats.url())
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "PUBLIC_BASE_URL" => (k, BASE_URL.to_owned()),
            _ => (k, v),
        })
        .collect();
    let config = Config::from_env(&Env::from_pairs(env)).unwrap();

    if std::env::var_os("BENCH_WITHOUT_OUTBOX_NOTIFY").is_some() {
        // Experiment: what the per-row NOTIFY of the outbox trigger costs (the relay then
        // finds rows by its 1 s poll).
        sqlx::query("drop trigger event_outbox_notify on event_outbox")
            .execute(&db.pool)
            .await
            .unwrap();
        println!("(experiment: event_outbox NOTIFY trigger dropped)");
    }

    // 10 % of the phones belong to registered users.
    for i in (0..PHONES).step_by(10) {
        let p = phone(i);
        sqlx::query(
            "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                                sms_consent, age_consent, terms_consent, privacy_consent)
             values ($1, $2, 'Bench', 'User', '1990-01-01', true, true, true, true)",
        )
        .bind(&p)
        .bind(config.phone_pepper.hash(&p))
        .execute(&db.pool)
        .await
        .unwrap();
    }

    let service = Service::build(config).await.unwrap();
    let addr = service.http_addr();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    wait_until("the service ready", Duration::from_secs(30), || async {
        http.get(format!("http://{addr}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await
    .unwrap();

    let url = format!("http://{addr}{PATH}");
    let warmup = Arc::new((0..1000).map(|i| webhook(i, "00")).collect::<Vec<_>>());
    fire(&http, &url, warmup, connections, 0).await;

    // Saturation: closed loop.
    let commits_before = commits(&db.pool).await;
    let requests = Arc::new((0..total).map(|i| webhook(i, "11")).collect::<Vec<_>>());
    let saturated = fire(&http, &url, requests, connections, 0).await;
    let throughput = total as f64 / saturated.elapsed.as_secs_f64();
    let commits_per_webhook = (commits(&db.pool).await - commits_before) as f64 / total as f64;
    drain(&db.pool).await;

    // Below saturation: paced open loop.
    let paced_total = (rate * 20).max(1000);
    let requests = Arc::new(
        (0..paced_total)
            .map(|i| webhook(i, "22"))
            .collect::<Vec<_>>(),
    );
    let paced = fire(&http, &url, requests, connections, rate).await;
    let paced_rate = paced_total as f64 / paced.elapsed.as_secs_f64();
    let relay_lag = drain(&db.pool).await;

    // Everything stored exactly once.
    let stored: i64 = sqlx::query_scalar("select count(*) from sms_messages")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, 1000 + total + paced_total);
    shutdown.cancel();
    running.await.unwrap().unwrap();

    // pgbench against the same database, with the service stopped.
    sqlx::raw_sql(
        "create table bench_sms_messages (like sms_messages including all);
         create table bench_message_events (like message_events including all);
         create table bench_event_outbox (like event_outbox including all);
         create trigger bench_outbox_notify after insert on bench_event_outbox
           for each row execute function event_outbox_notify();",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let admin_url = format!(
        "postgres://postgres@{}/{}",
        db.postgres_addr().unwrap(),
        db.name
    );
    let raw_tps = pgbench(&admin_url, RAW_INSERT);
    let rows_tps = pgbench(&admin_url, WEBHOOK_ROWS_ONE_STATEMENT);
    let tx_tps = pgbench(&admin_url, WEBHOOK_TRANSACTION);

    let line = |run: &Run| {
        let l = &run.latencies;
        format!(
            "p50 {} p95 {} p99 {} max {}",
            ms(percentile(l, 50.0)),
            ms(percentile(l, 95.0)),
            ms(percentile(l, 99.0)),
            ms(percentile(l, 100.0))
        )
    };
    println!(
        "inbound-sms webhooks over {connections} connections (signed, distinct SIDs, 10 % known users)"
    );
    println!(
        "  saturation (closed loop, {total}): {throughput:.0} webhooks/s; latency {}",
        line(&saturated)
    );
    println!("    Postgres commits per webhook (incl. relay batches): {commits_per_webhook:.2}");
    println!(
        "  paced at {rate}/s ({paced_total}, achieved {paced_rate:.0}/s): latency {}",
        line(&paced)
    );
    println!(
        "    outbox drained {:.2} s after the last answer",
        relay_lag.as_secs_f64()
    );
    println!("pgbench -n -c 64 -j 2 -T {PGBENCH_SECONDS}, same database, service stopped:");
    println!(
        "  (a) one sms_messages-shaped row per transaction: {raw_tps:.0} tps -> webhooks/(a) = {:.2}",
        throughput / raw_tps
    );
    println!(
        "  (b) the webhook's 3 rows in one statement: {rows_tps:.0} tps -> webhooks/(b) = {:.2}",
        throughput / rows_tps
    );
    println!(
        "  (c) the webhook's 3 rows as begin/insert x3/commit: {tx_tps:.0} tps -> webhooks/(c) = {:.2}",
        throughput / tx_tps
    );
}

/// Transactions committed in the database so far.
async fn commits(admin: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "select xact_commit from pg_stat_database where datname = current_database()",
    )
    .fetch_one(admin)
    .await
    .unwrap()
}

/// Waits until the relay has published every outbox row; returns how long that took.
async fn drain(admin: &sqlx::PgPool) -> Duration {
    let started = Instant::now();
    wait_until(
        "the relay to drain the outbox",
        Duration::from_secs(300),
        || async {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from event_outbox where published_at is null",
            )
            .fetch_one(admin)
            .await
            .is_ok_and(|n| n == 0)
        },
    )
    .await
    .unwrap();
    started.elapsed()
}
