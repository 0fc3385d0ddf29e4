//! Sending against the Twilio simulator: idempotency, crashes mid-send, retries, carrier
//! errors, a paused sender and the per-sender rate limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use common::{Cmd, World};
use proto::Payload;
use proto::v1::SmsPurpose;
use twilio_sim::NumberBehavior;

#[tokio::test]
async fn a_command_replayed_five_times_makes_one_job_and_one_create() {
    let mut world = World::start().await;
    world.run("a");
    let cmd = Cmd::new("replay-1", "+15551230001", "See you at 10?");
    for _ in 0..5 {
        // A new event id each time: only the idempotency key ties them together.
        world.command(cmd).await;
    }
    world
        .wait_job("replay-1", "the job to be sent", |j| j.status == "sent")
        .await;
    // All five deliveries were handled (each its own event id, so its own inbox row).
    world.wait_handled("outbound.send_sms", 5).await;
    let jobs: i64 = sqlx::query_scalar("select count(*) from sms_outbound_jobs")
        .fetch_one(&world.db.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
    assert_eq!(world.sim.create_count(), 1);
    assert_eq!(world.events("sms.sent").await.len(), 1);
}

/// Runs engine "a", has it send `cmd` and kills it while Twilio holds its answer back; returns
/// once that request is over (the simulator accepted the text, the engine recorded nothing).
/// On the wall clock: Twilio dates messages by its own, and the lookup that settles an unknown
/// outcome compares those dates with the attempt's start. So `cmd` must ignore quiet hours (an
/// urgent purpose): a plain reply would wait for the morning in the recipient's timezone.
async fn kill_mid_send(world: &mut World, cmd: Cmd<'_>) -> common::Job {
    world.clock.set(time::OffsetDateTime::now_utc());
    world.sim.set_create_delay(Duration::from_millis(1500));
    let first = world.run("a");
    world.command(cmd).await;
    let started = world.wait_job(cmd.key, "the send to start", |_| true).await;
    testkit::wait_until(
        "the create to be in flight",
        Duration::from_secs(10),
        || async { !world.sim.messages().is_empty() },
    )
    .await
    .unwrap();
    world.kill(first);
    testkit::wait_until(
        "the killed engine's create to be over",
        Duration::from_secs(10),
        || async { world.sim.creates_in_flight() == 0 },
    )
    .await
    .unwrap();
    world.sim.set_create_delay(Duration::ZERO);
    started
}

#[tokio::test]
async fn a_sender_killed_mid_send_completes_the_job_once() {
    let mut world = World::start().await;
    let cmd = Cmd::new("crash-1", "+15551230002", "Your code is 481516").purpose(SmsPurpose::Otp);
    let started = kill_mid_send(&mut world, cmd).await;
    // Another instance takes over once the lease runs out on the test clock.
    world.clock.advance(time::Duration::seconds(31));
    world.run("b");
    let job = world
        .wait_job("crash-1", "the job to be sent", |j| j.status == "sent")
        .await;
    assert_eq!(job.id, started.id);
    world.assert_sent_once("+15551230002", &job);
    assert_eq!(world.events("sms.sent").await.len(), 1);
}

#[tokio::test]
async fn a_sender_restarted_under_its_own_name_takes_back_its_jobs_without_waiting_out_the_lease() {
    let mut world = World::start().await;
    // A job another running sender holds: a restart of "a" must leave it alone.
    let lease_until: time::OffsetDateTime = sqlx::query_scalar(
        "insert into sms_outbound_jobs (to_e164, phone_hash, purpose, status, idempotency_key,
                                        segments, run_at, lease_owner, lease_until,
                                        send_started_at)
         values ('+15551230009', 'hash', 'reply', 'pending', 'held-by-b', 1, now(), 'b/0',
                 now() + interval '5 minutes', now())
         returning lease_until",
    )
    .fetch_one(&world.db.pool)
    .await
    .unwrap();
    kill_mid_send(
        &mut world,
        Cmd::new("restart-1", "+15551230003", "Your code is 271828").purpose(SmsPurpose::Otp),
    )
    .await;
    // The test clock stands still: the dead process's lease (30 s) never runs out here.
    world.run("a");
    let job = world
        .wait_job("restart-1", "the job to be sent", |j| j.status == "sent")
        .await;
    world.assert_sent_once("+15551230003", &job);
    assert_eq!(world.events("sms.sent").await.len(), 1);
    let other: (Option<String>, Option<time::OffsetDateTime>) = sqlx::query_as(
        "select lease_owner, lease_until from sms_outbound_jobs where idempotency_key = 'held-by-b'",
    )
    .fetch_one(&world.db.pool)
    .await
    .unwrap();
    assert_eq!(other, (Some("b/0".to_owned()), Some(lease_until)));
}

#[tokio::test]
async fn a_send_whose_record_fails_for_a_passing_reason_is_recorded_once_postgres_answers() {
    let mut world = World::start().await;
    // The first two tries to store the sent message fail as a serialization failure and a
    // broken connection would; the third goes through.
    sqlx::raw_sql(
        "create sequence test_record_tries;
         create function test_fail_record() returns trigger
           language plpgsql security definer as $$
         begin
           case nextval('test_record_tries')
             when 1 then raise exception 'injected' using errcode = '40001';
             when 2 then raise exception 'injected' using errcode = '08006';
             else return new;
           end case;
         end $$;
         create trigger test_fail_record before insert on sms_messages
           for each row execute function test_fail_record();",
    )
    .execute(&world.db.pool)
    .await
    .unwrap();
    world.run("a");
    world
        .command(Cmd::new("record-1", "+15551230004", "See you Saturday"))
        .await;
    // The test clock stands still, so without retries the job would wait out its lease forever.
    let job = world
        .wait_job("record-1", "the job to be recorded as sent", |j| {
            j.status == "sent"
        })
        .await;
    assert_eq!(world.sim.create_count(), 1, "one text went out");
    let sid = job.twilio_message_sid.unwrap();
    assert!(world.sim.message(&sid).is_some());
    let (tries, messages): (i64, i64) = sqlx::query_as(
        "select (select last_value from test_record_tries),
                (select count(*) from sms_messages where twilio_message_sid = $1)",
    )
    .bind(&sid)
    .fetch_one(&world.db.pool)
    .await
    .unwrap();
    assert_eq!((tries, messages), (3, 1));
    assert_eq!(world.events("sms.sent").await.len(), 1);
}

#[tokio::test]
async fn carrier_opt_out_21610_suppresses_the_number_and_is_never_retried() {
    let mut world = World::start().await;
    world
        .sim
        .set_number_behavior("+15551230003", NumberBehavior::OptedOut);
    world.run("a");
    world
        .command(Cmd::new("stop-1", "+15551230003", "Your invite"))
        .await;
    let job = world
        .wait_job("stop-1", "the job to fail", |j| j.status == "failed")
        .await;
    assert_eq!(job.error_code, Some(21610));
    assert_eq!(job.attempts, 1);
    assert_eq!(
        world.suppression("+15551230003").await.as_deref(),
        Some("carrier_opted_out")
    );
    let marked = world.events("sms.number_marked_unusable").await;
    assert!(matches!(&marked[..], [Payload::NumberMarkedUnusable(e)] if e.error_code == 21610));
    assert_eq!(world.events("sms.send_failed").await.len(), 1);
    // Time passes: nothing is retried.
    world.clock.advance(time::Duration::seconds(3600));
    world
        .wait_idle_poll(0, "a look for due jobs an hour later")
        .await;
    let again = world.job("stop-1").await.unwrap();
    assert_eq!((again.status.as_str(), again.attempts), ("failed", 1));
    // The next text to that number is suppressed before it reaches Twilio.
    world
        .command(Cmd::new("stop-2", "+15551230003", "Another"))
        .await;
    world
        .wait_job("stop-2", "the next job to be suppressed", |j| {
            j.status == "suppressed"
        })
        .await;
    assert_eq!(world.sim.create_count(), 0);
}

#[tokio::test]
async fn a_server_error_then_success_sends_after_one_retry() {
    let mut world = World::start().await;
    world.sim.fail_next_creates(1, 500, None);
    world.run("a");
    world
        .command(Cmd::new("retry-1", "+15551230004", "Brunch Sunday?"))
        .await;
    let waiting = world
        .wait_job("retry-1", "the first attempt to fail", |j| j.attempts == 1)
        .await;
    assert_eq!(waiting.status, "pending");
    assert!(waiting.run_at > common::NOON_NY, "backed off");
    world.clock.advance(time::Duration::seconds(61));
    let job = world
        .wait_job("retry-1", "the retry to send", |j| j.status == "sent")
        .await;
    assert_eq!(job.attempts, 2);
    assert_eq!(world.sim.create_count(), 1);
}

#[tokio::test]
async fn a_blocked_sender_30007_is_paused_and_its_jobs_wait() {
    let mut world = World::start().await;
    world.sim.fail_next_creates(1, 400, Some(30007));
    world.run("a");
    world
        .command(Cmd::new("pause-1", "+15551230005", "Hello"))
        .await;
    testkit::wait_until(
        "the sender to be paused",
        Duration::from_secs(10),
        || async {
            let paused: Option<i32> = sqlx::query_scalar(
                "select error_code from sms_sender_pauses where sender = $1 and resumed_at is null",
            )
            .bind(common::FROM)
            .fetch_optional(&world.db.pool)
            .await
            .unwrap();
            paused == Some(30007)
        },
    )
    .await
    .unwrap();
    world
        .command(Cmd::new("pause-2", "+15551230006", "Hello too"))
        .await;
    world.wait_job("pause-2", "the second job", |_| true).await;
    world
        .wait_idle_poll(0, "a look for due jobs while paused")
        .await;
    for key in ["pause-1", "pause-2"] {
        let job = world.job(key).await.unwrap();
        assert_eq!(job.status, "pending", "{key} is kept");
    }
    assert_eq!(world.sim.create_count(), 0);
    // Ops resume the sender: both go out.
    sqlx::query("update sms_sender_pauses set resumed_at = now()")
        .execute(&world.db.pool)
        .await
        .unwrap();
    for key in ["pause-1", "pause-2"] {
        world
            .wait_job(key, "the job to be sent after resuming", |j| {
                j.status == "sent"
            })
            .await;
    }
}

#[tokio::test]
async fn a_backlog_of_fifty_drains_at_one_segment_a_second_and_no_faster() {
    let mut world = World::start().await;
    // Hold the sender while the backlog builds up.
    sqlx::query(
        "insert into sms_sender_pauses (sender, paused_at, reason) values ($1, now(), 'test')",
    )
    .bind(common::FROM)
    .execute(&world.db.pool)
    .await
    .unwrap();
    world.run("a");
    for i in 0..50 {
        let key = format!("backlog-{i}");
        let to = format!("+1555124{i:04}");
        world
            .command(Cmd::new(&key, &to, "Quick check-in: still coming?"))
            .await;
    }
    testkit::wait_until(
        "a backlog of fifty jobs",
        Duration::from_secs(15),
        || async {
            let n: i64 = sqlx::query_scalar(
                "select count(*) from sms_outbound_jobs where status = 'pending'",
            )
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
            n == 50
        },
    )
    .await
    .unwrap();
    let start = {
        use platform::clock::Clock as _;
        world.clock.now()
    };
    sqlx::query("update sms_sender_pauses set resumed_at = now()")
        .execute(&world.db.pool)
        .await
        .unwrap();
    testkit::wait_until("all fifty sent", Duration::from_secs(60), || async {
        let n: i64 =
            sqlx::query_scalar("select count(*) from sms_outbound_jobs where status = 'sent'")
                .fetch_one(&world.db.pool)
                .await
                .unwrap();
        n == 50
    })
    .await
    .unwrap();
    let sent: Vec<time::OffsetDateTime> =
        sqlx::query_scalar("select sent_at from sms_outbound_jobs order by sent_at")
            .fetch_all(&world.db.pool)
            .await
            .unwrap();
    for pair in sent.windows(2) {
        assert!(
            pair[1] - pair[0] >= time::Duration::SECOND,
            "too fast: {pair:?}"
        );
    }
    assert!(sent[0] >= start);
    let span = sent[49] - sent[0];
    println!("backlog of 50 at 1 MPS took {span} of simulated time");
    assert!(
        span >= time::Duration::seconds(49) && span <= time::Duration::seconds(52),
        "{span}"
    );
}

#[tokio::test]
async fn a_three_segment_text_costs_three_seconds_of_the_bucket() {
    let mut world = World::start().await;
    world.run("a");
    let long = "This LinkUp is on! Coffee at Blue Bottle, Saturday 10:00. Reply DROP if you cannot make it, or HELP for help. We will remind you Saturday morning, and after the event we will ask how it went so we can find your people.";
    assert_eq!(twilio::segments::count(long).segments, 2);
    let three = format!("{long} {long}");
    assert_eq!(twilio::segments::count(&three).segments, 3);
    world
        .command(Cmd::new("seg-1", "+15551230007", &three))
        .await;
    let first = world
        .wait_job("seg-1", "the long text", |j| j.status == "sent")
        .await;
    world
        .command(Cmd::new("seg-2", "+15551230008", "Short one"))
        .await;
    let second = world
        .wait_job("seg-2", "the short text", |j| j.status == "sent")
        .await;
    let gap = second.sent_at.unwrap() - first.sent_at.unwrap();
    assert!(
        gap >= time::Duration::seconds(3),
        "3 tokens spent, gap {gap}"
    );
    let segments: i32 =
        sqlx::query_scalar("select num_segments from sms_messages where twilio_message_sid = $1")
            .bind(first.twilio_message_sid.unwrap())
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
    assert_eq!(segments, 3);
}

#[tokio::test]
async fn texts_to_one_number_go_out_one_at_a_time_in_queue_order() {
    let mut world = World::start_with(|s| {
        s.workers = 4;
        s.segments_per_second = 1000.0;
    })
    .await;
    // A slow Twilio: concurrent workers would overlap their creates and reorder them.
    world.sim.set_create_delay(Duration::from_millis(40));
    let (ann, ben) = ("+15551230041", "+15551230042");
    let keys: Vec<String> = (1..=5).map(|i| format!("order-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        world
            .command(Cmd::new(key, ann, &format!("part {}", i + 1)))
            .await;
        world
            .command(Cmd::new(&format!("{key}-ben"), ben, "hi Ben"))
            .await;
    }
    world.run("a");
    for key in &keys {
        world
            .wait_job(key, "the text to be sent", |j| j.status == "sent")
            .await;
    }
    let to_ann: Vec<String> = world
        .sim
        .messages()
        .into_iter()
        .filter(|m| m.to == ann)
        .map(|m| m.body)
        .collect();
    assert_eq!(to_ann, ["part 1", "part 2", "part 3", "part 4", "part 5"]);
}

/// Workers look for due jobs only when told (a new job's notification, a claim that saw more
/// due) or after their poll interval, here an hour: a number's later texts still go out at once,
/// each after the one before it, without a notification of their own left to wake anyone.
#[tokio::test]
async fn without_polling_a_numbers_later_texts_still_go_out() {
    let mut world = World::start_with(|s| {
        s.workers = 1;
        s.segments_per_second = 1000.0;
        s.poll_interval = Duration::from_secs(3600);
    })
    .await;
    // Sends take a while, so the later texts' notifications arrive while the worker is busy
    // (and fold into one wake-up).
    world.sim.set_create_delay(Duration::from_millis(40));
    let to = "+15551230051";
    let keys: Vec<String> = (1..=4).map(|i| format!("nopoll-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        world
            .command(Cmd::new(key, to, &format!("part {}", i + 1)))
            .await;
    }
    world.run("a");
    for key in &keys {
        world
            .wait_job(key, "the text to be sent", |j| j.status == "sent")
            .await;
    }
    let bodies: Vec<String> = world.sim.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["part 1", "part 2", "part 3", "part 4"]);
}

/// Every job announced while the only worker is busy keeps its wake-up: with polling an hour
/// away, texts to four numbers queued during one slow send all go out.
#[tokio::test]
async fn texts_queued_while_every_worker_is_busy_each_keep_their_wake_up() {
    let mut world = World::start_with(|s| {
        s.workers = 1;
        s.segments_per_second = 1000.0;
        s.poll_interval = Duration::from_secs(3600);
    })
    .await;
    world.sim.set_create_delay(Duration::from_millis(500));
    world.run("a");
    world
        .command(Cmd::new("busy-0", "+15551230060", "first"))
        .await;
    testkit::wait_until("the first send to start", Duration::from_secs(15), || async {
        sqlx::query_scalar::<_, bool>(
            "select lease_owner is not null from sms_outbound_jobs where idempotency_key = 'busy-0'",
        )
        .fetch_optional(&world.db.pool)
        .await
        .unwrap()
        .unwrap_or(false)
    })
    .await
    .unwrap();
    let keys: Vec<String> = (1..=4).map(|i| format!("busy-{i}")).collect();
    for (i, key) in keys.iter().enumerate() {
        let to = format!("+155512300{}", 61 + i);
        world.command(Cmd::new(key, &to, "later")).await;
    }
    for key in std::iter::once("busy-0").chain(keys.iter().map(String::as_str)) {
        world
            .wait_job(key, "the text to be sent", |j| j.status == "sent")
            .await;
    }
    assert_eq!(world.sim.messages().len(), 5);
}
