//! The inbox consumer against real Postgres and a real nats-server: exactly one effect per
//! event, retries, dead letters and replay, per-user order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;

use bus::{ConsumerRunner, dlq};
use common::{
    CONSUMER, DEADLINE, Harness, Recorder, committed_order, event, payload_info, publish_grid,
    stop_mid_stream_and_restart,
};
use prost::Message;
use testkit::wait_until;

fn start(h: &Harness, recorder: &Recorder) -> tokio::task::JoinHandle<Result<(), bus::BusError>> {
    let runner = ConsumerRunner::new(
        h.js.clone(),
        h.consumer_pool.clone(),
        h.spec(),
        recorder.clone(),
    );
    tokio::spawn(runner.run(h.shutdown.clone()))
}

#[tokio::test]
async fn a_redelivered_event_has_no_second_effect() {
    let h = Harness::new().await;
    let envelope = event("user-a", 1);
    let subject = bus::subjects::subject_of(&envelope).unwrap();
    // The same event arrives twice (e.g. republished after a relay crash outside the window).
    h.publish_raw(subject.clone(), "first", envelope.encode_to_vec())
        .await;
    h.publish_raw(subject, "second", envelope.encode_to_vec())
        .await;
    let recorder = Recorder::default();
    let task = start(&h, &recorder);
    wait_until("both deliveries to be handled", DEADLINE, || async {
        recorder.attempts.load(Ordering::SeqCst) >= 1 && consumer_idle(&h).await
    })
    .await
    .unwrap();
    assert_eq!(h.effects().await, 1);
    assert_eq!(
        recorder.attempts.load(Ordering::SeqCst),
        1,
        "the duplicate never reached the handler"
    );
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_handler_failing_twice_then_succeeding_has_exactly_one_effect() {
    let h = Harness::new().await;
    h.enqueue(&event("user-a", 1)).await;
    h.relay().publish_batch().await.unwrap();
    let recorder = Recorder::default();
    recorder.fail_next.store(2, Ordering::SeqCst);
    let task = start(&h, &recorder);
    wait_until("the effect", DEADLINE, || async { h.effects().await == 1 })
        .await
        .unwrap();
    wait_until("the consumer to settle", DEADLINE, || consumer_idle(&h))
        .await
        .unwrap();
    assert_eq!(recorder.attempts.load(Ordering::SeqCst), 3);
    assert_eq!(h.effects().await, 1);
    assert!(
        dlq::list(&h.js, Some(CONSUMER), 10)
            .await
            .unwrap()
            .is_empty()
    );
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_handler_that_always_fails_ends_in_the_dlq_and_replay_works() {
    let h = Harness::new().await;
    h.enqueue(&event("user-a", 1)).await;
    h.enqueue(&event("user-a", 2)).await;
    h.relay().publish_batch().await.unwrap();
    let recorder = Recorder::default();
    recorder.fail_next.store(u32::MAX, Ordering::SeqCst);
    let task = start(&h, &recorder);

    wait_until("two dead letters", DEADLINE, || async {
        dlq::list(&h.js, Some(CONSUMER), 10).await.unwrap().len() == 2
    })
    .await
    .unwrap();
    let letters = dlq::list(&h.js, Some(CONSUMER), 10).await.unwrap();
    assert_eq!(
        recorder.attempts.load(Ordering::SeqCst),
        6,
        "3 deliveries each, then no more"
    );
    assert!(
        letters[0].reason.contains("recorder told to fail"),
        "{}",
        letters[0].reason
    );
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(
        recorder.dead_lettered.load(Ordering::SeqCst),
        2,
        "the handler heard of each dead letter once"
    );
    assert!(
        letters[0]
            .original_subject
            .starts_with("josh.evt.identity.profile_updated.p")
    );
    assert_eq!(h.effects().await, 0);

    // The poison message did not block the partition: the second event was tried too.
    recorder.fail_next.store(0, Ordering::SeqCst);
    for letter in &letters {
        dlq::replay(&h.js, letter.sequence).await.unwrap();
    }
    wait_until("the replayed effects", DEADLINE, || async {
        h.effects().await == 2
    })
    .await
    .unwrap();
    assert!(
        dlq::list(&h.js, Some(CONSUMER), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        dlq::replay(&h.js, letters[0].sequence).await,
        Err(bus::BusError::NoSuchDeadLetter(_))
    ));
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_undecodable_message_goes_straight_to_the_dlq() {
    let h = Harness::new().await;
    let subject = bus::subjects::subject(payload_info(), 0);
    h.publish_raw(subject, "garbage", vec![0xff, 0xff, 0xff, 0x01])
        .await;
    let recorder = Recorder::default();
    let task = start(&h, &recorder);
    wait_until("the dead letter", DEADLINE, || async {
        !dlq::list(&h.js, None, 10).await.unwrap().is_empty()
    })
    .await
    .unwrap();
    let letter = &dlq::list(&h.js, None, 10).await.unwrap()[0];
    assert!(
        letter.reason.starts_with("undecodable envelope"),
        "{}",
        letter.reason
    );
    assert_eq!(letter.attempts, 1);
    assert_eq!(recorder.attempts.load(Ordering::SeqCst), 0);
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_thousand_events_of_fifty_users_arrive_in_per_user_order() {
    let h = Harness::new().await;
    let users: Vec<String> = (0..50).map(|u| format!("user-{u:02}")).collect();
    // Interleave: round-robin over users, 20 events each.
    for seq in 0..20 {
        for user in &users {
            h.enqueue(&event(user, seq)).await;
        }
    }
    let relay = tokio::spawn(h.relay().run(h.shutdown.clone()));
    let recorder = Recorder::default();
    let task = start(&h, &recorder);
    wait_until("1000 effects", DEADLINE, || async {
        h.effects().await == 1000
    })
    .await
    .unwrap();

    let order = recorder.order.lock().await.clone();
    assert_eq!(order.len(), 1000);
    let mut per_user: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (user, seq) in &order {
        per_user.entry(user.as_str()).or_default().push(*seq);
    }
    for (user, seqs) in &per_user {
        assert_eq!(*seqs, (0..20).collect::<Vec<u32>>(), "order of {user}");
    }
    let first_hundred: BTreeSet<&str> = order[..100].iter().map(|(u, _)| u.as_str()).collect();
    assert!(
        first_hundred.len() > 5,
        "users should interleave, got {first_hundred:?}"
    );
    h.shutdown.cancel();
    task.await.unwrap().unwrap();
    relay.await.unwrap();
}

#[tokio::test]
async fn a_stopped_consumer_hands_back_what_it_had_not_read_so_a_restart_goes_on_at_once() {
    let h = Harness::new().await;
    publish_grid(&h, 20, 5).await;
    // An ack wait beyond the deadline: each partition's message that the server sent in answer
    // to the last ack before the stop must come back at the stop, not after the ack wait.
    let mut spec = h.spec();
    spec.ack_wait = 2 * DEADLINE;
    let handled_before_restart = stop_mid_stream_and_restart(&h, &spec, 100).await;
    assert!(handled_before_restart < 100, "the stop came mid-stream");
    for (key, seqs) in committed_order(&h).await {
        assert_eq!(seqs, (0..5).collect::<Vec<i32>>(), "order of {key}");
    }
}

/// True once every durable consumer of the spec has nothing pending or unacknowledged.
async fn consumer_idle(h: &Harness) -> bool {
    h.idle(&h.spec()).await
}
