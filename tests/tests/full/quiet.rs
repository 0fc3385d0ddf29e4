//! Waiting without sleeping: readiness, and "everything caused so far has happened" — every
//! outbox row published, every JetStream consumer caught up, no due timer, reminder, Stripe
//! event or outbound job left, every sent text delivered and its status callback applied.

use std::time::Duration;

use futures::TryStreamExt;
use platform::clock::Clock;
use testkit::wait_until;

use super::System;

/// How long one step of the story may take to settle.
const SETTLE: Duration = Duration::from_secs(30);
/// How long the five services may take to become ready: each creates its durable consumers on
/// every bus partition first, which on a busy CI box (this test often runs last, beside the
/// rest of the suite) once took longer than a step's 30 s.
const READY: Duration = Duration::from_secs(120);

/// Waits until every service answers `/readyz` with 200.
pub async fn wait_ready(http: &reqwest::Client, urls: &[String]) {
    for url in urls {
        wait_until(&format!("{url} ready"), READY, || async {
            let answer = http.get(url).send().await;
            answer.is_ok_and(|r| r.status().is_success())
        })
        .await
        .unwrap();
    }
}

/// Waits until the system is quiet twice in a row with no progress in between: nothing was
/// published, handled, queued or sent between the two checks. (One check reads Postgres, the
/// simulator and JetStream one after another, so a text moving from one to the next while it
/// looks can be missed by both; it cannot be missed without moving one of the counters.)
pub async fn settle(s: &System) {
    // (quiet checks in a row, what was last busy, progress at the last quiet check)
    let state = std::sync::Mutex::new((0u32, String::new(), None::<Progress>));
    let state = &state;
    let client = async_nats::connect(s.nats.url()).await.unwrap();
    let js = &async_nats::jetstream::new(client);
    let waited = wait_until("the system to settle", SETTLE, || async move {
        let before = progress(s, js).await;
        let busy = busy(s, js).await;
        let mut st = state.lock().unwrap();
        match busy {
            None if st.2.as_ref() == Some(&before) => st.0 += 1,
            None => {
                let why = if st.2.is_some() {
                    "progress between two quiet checks".to_owned()
                } else {
                    std::mem::take(&mut st.1)
                };
                *st = (1, why, Some(before));
            }
            Some(why) => *st = (0, why, None),
        }
        st.0 >= 2
    })
    .await;
    if let Err(error) = waited {
        panic!("{error}; last busy: {}", state.lock().unwrap().1);
    }
}

/// Counters that only grow while anything happens: rows every step writes, messages every
/// stream received, texts the simulator saw, and their delivered statuses.
type Progress = (Vec<i64>, Vec<u64>, usize, usize);

async fn progress(s: &System, js: &async_nats::jetstream::Context) -> Progress {
    let rows: Vec<i64> = sqlx::query_scalar(
        "select count(*) from event_outbox union all select count(*) from event_inbox
         union all select count(*) from sms_messages union all select count(*) from sms_outbound_jobs
         union all select count(*) from message_events",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    let mut names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    names.sort();
    let mut sequences = Vec::new();
    for name in names {
        let mut stream = js.get_stream(&name).await.unwrap();
        sequences.push(stream.info().await.unwrap().state.last_sequence);
    }
    let texts = s.twilio.messages();
    let delivered = texts
        .iter()
        .filter(|m| m.status == twilio::status::MessageStatus::Delivered)
        .count();
    (rows, sequences, texts.len(), delivered)
}

/// What is still going on, or `None` when nothing is.
async fn busy(s: &System, js: &async_nats::jetstream::Context) -> Option<String> {
    let now = s.clock.now();
    let pending: Vec<(String, i64)> = sqlx::query_as(
        "select 'unpublished outbox rows', count(*) from event_outbox where published_at is null
         union all select 'due timers', count(*) from linkup_timers
           where fired_at is null and due_at <= $1
         union all select 'due reminders', count(*) from linkup_reminders
           where status = 'pending' and scheduled_for <= $1
         union all select 'unprocessed stripe events', count(*) from stripe_events
           where processed_at is null and processing_error is null
         union all select 'due outbound jobs', count(*) from sms_outbound_jobs
           where status = 'pending' and run_at <= $1
         union all select 'undelivered outbound jobs', count(*) from sms_outbound_jobs
           where status = 'sent' and delivery_status is distinct from 'delivered'",
    )
    .bind(now)
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    if let Some((what, n)) = pending.into_iter().find(|(_, n)| *n > 0) {
        return Some(format!("{n} {what}"));
    }
    let in_flight = s
        .twilio
        .messages()
        .iter()
        .filter(|m| m.status != twilio::status::MessageStatus::Delivered)
        .count();
    if in_flight > 0 {
        return Some(format!("{in_flight} texts not delivered by twilio-sim"));
    }
    consumers_behind(js).await
}

/// A JetStream consumer with messages not yet delivered or not yet acknowledged.
async fn consumers_behind(js: &async_nats::jetstream::Context) -> Option<String> {
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap();
    for name in names {
        let stream = js.get_stream(&name).await.unwrap();
        let consumers: Vec<_> = stream.consumers().try_collect().await.unwrap();
        for info in consumers {
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                return Some(format!(
                    "consumer {} on {name}: {} pending, {} unacked",
                    info.name, info.num_pending, info.num_ack_pending
                ));
            }
        }
    }
    None
}

/// Messages on the dead-letter stream.
pub async fn dead_letters(s: &System) -> u64 {
    let client = async_nats::connect(s.nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    match js.get_stream(bus::subjects::DLQ_STREAM).await {
        Ok(mut stream) => stream.info().await.unwrap().state.messages,
        Err(_) => 0,
    }
}
