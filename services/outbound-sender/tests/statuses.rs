//! Delivery statuses: forward only, carrier errors from callbacks, and reconciliation when
//! callbacks never come.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use common::{Cmd, World};
use proto::Payload;
use proto::v1::SmsStatus;
use tokio_util::sync::CancellationToken;
use twilio::status::MessageStatus;
use twilio_sim::NumberBehavior;

async fn message_status(world: &World, sid: &str) -> (Option<String>, Option<i32>) {
    sqlx::query_as("select status, error_code from sms_messages where twilio_message_sid = $1")
        .bind(sid)
        .fetch_one(&world.db.pool)
        .await
        .unwrap()
}

async fn sent_sid(world: &mut World, key: &str, to: &str) -> String {
    world.command(Cmd::new(key, to, "Are you in?")).await;
    let job = world
        .wait_job(key, "the job to be sent", |j| j.status == "sent")
        .await;
    job.twilio_message_sid.unwrap()
}

#[tokio::test]
async fn callbacks_out_of_order_end_delivered() {
    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "order-1", "+15551230101").await;
    assert_eq!(
        message_status(&world, &sid).await.0.as_deref(),
        Some("queued")
    );
    world.status(&sid, SmsStatus::Delivered, 0).await;
    testkit::wait_until("delivered", Duration::from_secs(10), || async {
        message_status(&world, &sid).await.0.as_deref() == Some("delivered")
    })
    .await
    .unwrap();
    world.status(&sid, SmsStatus::Sent, 0).await;
    // Wait until the late `sent` was handled (its inbox row), then check nothing moved back.
    testkit::wait_until("the late sent to be handled", Duration::from_secs(10), || async {
        let handled: i64 = sqlx::query_scalar(
            "select count(*) from event_inbox where consumer = 'outbound-sender' and event_type = 'sms.statuses_reported'",
        )
        .fetch_one(&world.db.pool)
        .await
        .unwrap();
        handled == 2
    })
    .await
    .unwrap();
    assert_eq!(
        message_status(&world, &sid).await.0.as_deref(),
        Some("delivered")
    );
    let job = world.job("order-1").await.unwrap();
    assert_eq!(job.delivery_status.as_deref(), Some("delivered"));
}

#[tokio::test]
async fn a_30005_callback_marks_the_number_unusable() {
    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "dead-1", "+15551230102").await;
    world.status(&sid, SmsStatus::Undelivered, 30005).await;
    testkit::wait_until(
        "the number to be suppressed",
        Duration::from_secs(10),
        || async { world.suppression("+15551230102").await.as_deref() == Some("unusable") },
    )
    .await
    .unwrap();
    assert_eq!(
        message_status(&world, &sid).await,
        (Some("undelivered".to_owned()), Some(30005))
    );
    let marked = world.events("sms.number_marked_unusable").await;
    assert!(
        matches!(&marked[..], [Payload::NumberMarkedUnusable(e)] if e.error_code == 30005 && e.message_sid == sid),
        "{marked:?}"
    );
    world
        .command(Cmd::new("dead-2", "+15551230102", "Hello?"))
        .await;
    world
        .wait_job("dead-2", "the next text to be suppressed", |j| {
            j.status == "suppressed"
        })
        .await;
}

#[tokio::test]
async fn a_30007_callback_pauses_the_sender() {
    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "filter-1", "+15551230103").await;
    world.status(&sid, SmsStatus::Undelivered, 30007).await;
    testkit::wait_until("the sender to be paused", Duration::from_secs(10), || async {
        let paused: bool = sqlx::query_scalar(
            "select exists (select 1 from sms_sender_pauses where sender = $1 and resumed_at is null)",
        )
        .bind(common::FROM)
        .fetch_one(&world.db.pool)
        .await
        .unwrap();
        paused
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn reconciliation_settles_a_message_whose_callbacks_never_came() {
    let mut world = World::start().await;
    world.sim.set_drop_callbacks(true);
    world.sim.set_auto_callbacks(true);
    world
        .sim
        .set_number_behavior("+15551230104", NumberBehavior::Unreachable(30006));
    world.run("a");
    let sid = sent_sid(&mut world, "quiet-1", "+15551230104").await;
    testkit::wait_until(
        "the simulator to give up delivering",
        Duration::from_secs(10),
        || async {
            world
                .sim
                .message(&sid)
                .is_some_and(|m| m.error_code == Some(30006))
        },
    )
    .await
    .unwrap();
    let engine = world.engine("reconciler");
    let token = CancellationToken::new();
    assert_eq!(
        engine.reconcile_once(&token).await.unwrap(),
        0,
        "not stale yet"
    );
    world.clock.advance(time::Duration::seconds(61));
    assert_eq!(engine.reconcile_once(&token).await.unwrap(), 1);
    assert_eq!(
        message_status(&world, &sid).await,
        (Some("undelivered".to_owned()), Some(30006))
    );
    assert_eq!(
        world.suppression("+15551230104").await.as_deref(),
        Some("unusable")
    );
    world.clock.advance(time::Duration::seconds(61));
    assert_eq!(
        engine.reconcile_once(&token).await.unwrap(),
        0,
        "final statuses are left alone"
    );
}

#[tokio::test]
async fn a_status_racing_a_newer_one_waits_for_it_and_never_moves_back() {
    use outbound_sender::status::Applied;
    use twilio::status::MessageStatus;

    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "race-1", "+15551230109").await;
    let engine = world.engine("b");
    let mut first = world.pool.begin().await.unwrap();
    let applied = engine
        .apply_status(&mut first, &sid, MessageStatus::Delivered, None, "")
        .await
        .unwrap();
    assert_eq!(applied, Applied::Advanced);

    // A late `sent` for the same message, in its own transaction, while `delivered` is not yet
    // committed: it must wait for the row and then see `delivered`.
    let late = {
        let (pool, sid, engine) = (world.pool.clone(), sid.clone(), engine.clone());
        tokio::spawn(async move {
            let mut tx = pool.begin().await.unwrap();
            let applied = engine
                .apply_status(&mut tx, &sid, MessageStatus::Sent, None, "")
                .await
                .unwrap();
            tx.commit().await.unwrap();
            applied
        })
    };
    testkit::wait_until(
        "the late status to wait for the row lock",
        Duration::from_secs(10),
        || async {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock'
                    and query like '%update sms_messages set status%'",
            )
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
            waiting == 1
        },
    )
    .await
    .unwrap();
    first.commit().await.unwrap();

    assert_eq!(late.await.unwrap(), Applied::Stale);
    assert_eq!(
        message_status(&world, &sid).await.0.as_deref(),
        Some("delivered")
    );
    let job = world.job("race-1").await.unwrap();
    assert_eq!(job.delivery_status.as_deref(), Some("delivered"));
    let unknown = engine
        .apply_status(
            &mut world.pool.begin().await.unwrap(),
            "SM00000000000000000000000000000000",
            MessageStatus::Delivered,
            None,
            "",
        )
        .await
        .unwrap();
    assert_eq!(unknown, Applied::Unknown);
}

/// Intermediate statuses change no indexed value of the message, so Postgres can update it in
/// place (HOT) instead of adding an entry to each of its indexes; only the final status, which
/// takes it out of the reconciliation index, cannot.
#[tokio::test]
async fn intermediate_statuses_update_the_message_in_place() {
    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "hot-1", "+15551230109").await;
    let engine = world.engine("b");
    let mut tx = world.pool.begin().await.unwrap();

    let applied = engine
        .apply_status(&mut tx, &sid, MessageStatus::Sent, None, "cause-1")
        .await
        .unwrap();
    assert_eq!(applied, outbound_sender::status::Applied::Advanced);
    assert_eq!(
        message_updates(&mut tx).await,
        (1, 1),
        "(updated, in place)"
    );
    assert_eq!(
        job_delivery(&mut tx, &sid).await,
        None,
        "not final: the job is not touched"
    );
    engine
        .apply_status(&mut tx, &sid, MessageStatus::Delivered, None, "cause-2")
        .await
        .unwrap();
    assert_eq!(
        message_updates(&mut tx).await,
        (2, 1),
        "(updated, in place)"
    );
    assert_eq!(
        job_delivery(&mut tx, &sid).await.as_deref(),
        Some("delivered")
    );
    tx.rollback().await.unwrap();
}

/// The delivery status recorded on the job of message `sid`.
async fn job_delivery(tx: &mut sqlx::PgConnection, sid: &str) -> Option<String> {
    sqlx::query_scalar(
        "select delivery_status from sms_outbound_jobs where twilio_message_sid = $1",
    )
    .bind(sid)
    .fetch_one(tx)
    .await
    .unwrap()
}

/// This transaction's updates of `sms_messages`: all of them, and those made in place (HOT).
async fn message_updates(tx: &mut sqlx::PgConnection) -> (i64, i64) {
    sqlx::query_as(
        "select pg_stat_get_xact_tuples_updated('sms_messages'::regclass),
                pg_stat_get_xact_tuples_hot_updated('sms_messages'::regclass)",
    )
    .fetch_one(tx)
    .await
    .unwrap()
}

/// The number a sent message went to.
async fn recipient_of(world: &World, sid: &str) -> String {
    sqlx::query_scalar("select to_e164 from sms_messages where twilio_message_sid = $1")
        .bind(sid)
        .fetch_one(&world.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_batch_of_reports_leaves_each_message_where_its_reports_in_order_lead() {
    let mut world = World::start().await;
    world.run("a");
    let one = sent_sid(&mut world, "batch-1", "+15551230111").await;
    let two = sent_sid(&mut world, "batch-2", "+15551230112").await;
    let three = sent_sid(&mut world, "batch-3", "+15551230113").await;
    let handler = outbound_sender::status::StatusHandler::new(world.engine("batch"));
    let delivered = world.status_envelope(&three, SmsStatus::Delivered, 0);
    bus::deliver(&world.pool, "outbound-sender", &handler, &delivered)
        .await
        .unwrap();

    let reports = [
        world.status_envelope(&one, SmsStatus::Sent, 0),
        world.status_envelope(&two, SmsStatus::Delivered, 0),
        world.status_envelope(&one, SmsStatus::Delivered, 0),
        // Late: never moves `two` back from delivered.
        world.status_envelope(&two, SmsStatus::Sent, 0),
        // Stale for `three` (delivered), but its carrier error still counts.
        world.status_envelope(&three, SmsStatus::Undelivered, 30005),
        world.status_envelope(&three, SmsStatus::Sent, 0),
    ];
    let batch: Vec<&proto::Envelope> = reports.iter().collect();
    let outcomes = bus::consumer::deliver_batch(&world.pool, "outbound-sender", &handler, &batch)
        .await
        .unwrap();

    assert!(
        outcomes.iter().all(|o| *o == bus::Outcome::Handled),
        "{outcomes:?}"
    );
    assert_delivered(
        &world,
        &[(&one, "batch-1"), (&two, "batch-2"), (&three, "batch-3")],
    )
    .await;
    assert_unusable(&world, &three).await;
}

/// Each (SID, job key) ended delivered, on the message and on its job.
async fn assert_delivered(world: &World, sent: &[(&str, &str)]) {
    for (sid, key) in sent {
        assert_eq!(
            message_status(world, sid).await.0.as_deref(),
            Some("delivered"),
            "{key}"
        );
        let job = world.job(key).await.unwrap();
        assert_eq!(job.delivery_status.as_deref(), Some("delivered"), "{key}");
    }
}

/// The recipient of message `sid` is suppressed as unusable.
async fn assert_unusable(world: &World, sid: &str) {
    let number = recipient_of(world, sid).await;
    assert_eq!(
        world.suppression(&number).await.as_deref(),
        Some("unusable")
    );
}

#[tokio::test]
async fn a_batch_with_a_report_on_an_unknown_message_commits_nothing() {
    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "batch-4", "+15551230114").await;
    let handler = outbound_sender::status::StatusHandler::new(world.engine("batch"));
    let reports = [
        world.status_envelope(&sid, SmsStatus::Delivered, 0),
        world.status_envelope("SM00000000000000000000000000000000", SmsStatus::Sent, 0),
    ];
    let batch: Vec<&proto::Envelope> = reports.iter().collect();

    let failed =
        bus::consumer::deliver_batch(&world.pool, "outbound-sender", &handler, &batch).await;

    assert!(
        matches!(failed, Err(bus::HandlerError::Retry(_))),
        "an unknown SID waits for a retry: {failed:?}"
    );
    assert_eq!(
        message_status(&world, &sid).await.0.as_deref(),
        Some("queued")
    );
    let inboxed: i64 =
        sqlx::query_scalar("select count(*) from event_inbox where event_id = any($1)")
            .bind(
                reports
                    .iter()
                    .map(|r| uuid::Uuid::parse_str(&r.event_id).unwrap())
                    .collect::<Vec<_>>(),
            )
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
    assert_eq!(inboxed, 0, "the batch's inbox rows rolled back with it");
}

#[tokio::test]
async fn one_group_of_reports_leaves_each_message_where_its_reports_in_order_lead() {
    // What inbound-sms publishes for callbacks stored together: one event, several reports.
    let mut world = World::start().await;
    world.run("a");
    let one = sent_sid(&mut world, "group-1", "+15551230121").await;
    let two = sent_sid(&mut world, "group-2", "+15551230122").await;
    let group = world.group_envelope(&[
        (&one, SmsStatus::Sent, 0),
        (&two, SmsStatus::Delivered, 0),
        (&one, SmsStatus::Delivered, 0),
        // Late: never moves `two` back from delivered; its carrier error still counts.
        (&two, SmsStatus::Undelivered, 30005),
        (&two, SmsStatus::Sent, 0),
    ]);
    world.publish(&group).await;
    world.wait_handled("sms.statuses_reported", 1).await;

    assert_delivered(&world, &[(&one, "group-1"), (&two, "group-2")]).await;
    assert_unusable(&world, &two).await;
}

#[tokio::test]
async fn a_lone_status_report_from_before_groups_is_still_applied() {
    // Published by an inbound-sms of the previous release during a rolling upgrade.
    let mut world = World::start().await;
    world.run("a");
    let sid = sent_sid(&mut world, "legacy-1", "+15551230123").await;
    world
        .publish(&world.legacy_status_envelope(&sid, SmsStatus::Delivered, 0))
        .await;
    world.wait_handled("sms.status_reported", 1).await;
    assert_eq!(
        message_status(&world, &sid).await.0.as_deref(),
        Some("delivered")
    );
}
