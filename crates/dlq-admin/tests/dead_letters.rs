//! DeadLetters served in-process over a real database and a private nats-server, with a real
//! consumer that gives up: a listing shows metadata and never a payload; a replayed letter is
//! handled exactly once, and not again by another consumer of its subject that had handled it
//! (a second copy is skipped by the inboxes); replay-all counts what it
//! replayed; discard drops a letter unhandled; another service's letters are out of reach. Every
//! action is refused for a role that may not use it and without a token, and leaves an audit row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::Ordering;

use admin_auth::testing::{self, authed};
use common::{CONSUMER, DEADLINE, World, event};
use prost::Message as _;
use rpc::admin::v1 as api;
use rpc::admin::v1::replay_dead_letters_request::Target;
use testkit::wait_until;
use tonic::{Code, Request};

fn list(subject: &str) -> api::ListDeadLettersRequest {
    api::ListDeadLettersRequest {
        filter: Some(api::DeadLetterFilter {
            consumer: String::new(),
            subject: subject.to_owned(),
        }),
        limit: 0,
    }
}

fn replay_one(sequence: u64, reason: &str) -> api::ReplayDeadLettersRequest {
    api::ReplayDeadLettersRequest {
        target: Some(Target::Sequence(sequence)),
        reason: reason.to_owned(),
    }
}

fn replay_all(subject: &str, reason: &str) -> api::ReplayDeadLettersRequest {
    api::ReplayDeadLettersRequest {
        target: Some(Target::All(api::DeadLetterFilter {
            consumer: String::new(),
            subject: subject.to_owned(),
        })),
        reason: reason.to_owned(),
    }
}

fn discard(sequence: u64, reason: &str) -> api::DiscardDeadLetterRequest {
    api::DiscardDeadLetterRequest {
        sequence,
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn any_role_lists_metadata_without_payloads_and_is_audited() {
    let mut w = World::start().await;
    let envelope = event("user-a", "PRIVATE-MARKER-1234");
    let letter = w.dead_letter(&envelope).await;
    let support = w.token("support").await;

    let listed = w
        .client
        .list_dead_letters(authed(list(""), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (listed.service.as_str(), listed.truncated),
        (CONSUMER, false)
    );
    let [shown] = listed.dead_letters.as_slice() else {
        panic!("one letter: {listed:?}");
    };
    assert_eq!(shown.sequence, letter.sequence);
    assert_eq!(shown.consumer, CONSUMER);
    assert!(
        shown
            .original_subject
            .starts_with("josh.evt.identity.profile_updated.p"),
        "{shown:?}"
    );
    assert_eq!(shown.payload_type, "identity.profile_updated");
    assert_eq!(shown.event_id, envelope.event_id);
    assert!(shown.error.contains("recorder told to fail"), "{shown:?}");
    assert_eq!((shown.attempts, shown.replays), (2, 0));
    assert!(shown.first_failed_at.is_some());
    assert_eq!(shown.first_failed_at, shown.last_failed_at);
    let wire = listed.encode_to_vec();
    assert!(
        !wire.windows(6).any(|chunk| chunk == b"MARKER"),
        "no payload crosses the admin API"
    );

    let by_subject = |s: &str| authed(list(s), &support);
    let matching = w
        .client
        .list_dead_letters(by_subject("josh.evt.identity.profile_updated"));
    assert_eq!(matching.await.unwrap().into_inner().dead_letters.len(), 1);
    let other = w.client.list_dead_letters(by_subject("josh.evt.sms.>"));
    assert!(other.await.unwrap().into_inner().dead_letters.is_empty());
    let mut foreign = list("");
    foreign.filter.as_mut().unwrap().consumer = "billing".to_owned();
    let refused = w.client.list_dead_letters(authed(foreign, &support)).await;
    assert_eq!(refused.unwrap_err().code(), Code::InvalidArgument);

    let anonymous = w.client.list_dead_letters(Request::new(list(""))).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let rows = testing::audit_rows(&w.db.pool, "dlq.list").await;
    assert_eq!(rows.len(), 3, "each answered listing: {rows:?}");
    assert_eq!(rows[0].outcome, None);
    assert_eq!(rows[0].payload["count"], 1);
    assert_eq!(rows[0].payload["service"], CONSUMER);
}

#[tokio::test]
async fn a_replayed_letter_is_handled_once_and_only_operators_replay() {
    let mut w = World::start().await;
    let envelope = event("user-a", "1");
    let letter = w.dead_letter(&envelope).await;
    w.recorder.failing.store(false, Ordering::SeqCst);
    let (support, ops) = (w.token("support").await, w.token("ops").await);

    let denied = w
        .client
        .replay_dead_letters(authed(replay_one(letter.sequence, "fixed"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = w
        .client
        .replay_dead_letters(Request::new(replay_one(letter.sequence, "fixed")))
        .await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = w
        .client
        .replay_dead_letters(authed(replay_one(letter.sequence, " "), &ops))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(w.effects().await, 0, "nothing replayed yet");

    let replayed = w
        .client
        .replay_dead_letters(authed(replay_one(letter.sequence, "bug fixed"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replayed.replayed.len(), 1);
    wait_until("the replayed effect", DEADLINE, || async {
        w.effects().await == 1
    })
    .await
    .unwrap();
    assert!(w.letters().await.is_empty(), "removed from the DLQ");

    // The same letter published again (a replay whose removal was lost, from another replica)
    // reaches the consumer and is skipped by its inbox; the same replay id is not even stored.
    let handled = w.recorder.attempts.load(Ordering::SeqCst);
    let again = w
        .publish_as(
            letter.original_subject.clone(),
            "another-replica",
            letter.payload.to_vec(),
        )
        .await;
    assert!(again > 0);
    bus::dlq::replay_letter(&w.js, &letter).await.unwrap();
    w.consumer_settled().await;
    assert_eq!(w.effects().await, 1, "handled once");
    let bystander = w.bystander.lock().unwrap().clone();
    assert_eq!(
        bystander,
        [envelope.event_id.as_str()],
        "the other consumer of the subject handled the event once, before the replay"
    );
    assert_eq!(
        w.recorder.attempts.load(Ordering::SeqCst),
        handled,
        "the duplicate never reached the handler"
    );

    let gone = w
        .client
        .replay_dead_letters(authed(replay_one(letter.sequence, "again"), &ops))
        .await;
    assert_eq!(gone.unwrap_err().code(), Code::NotFound);
    let rows = testing::audit_rows(&w.db.pool, "dlq.replay").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].outcome.as_deref(), Some("denied"));
    assert_eq!(rows[1].outcome, None);
    assert_eq!(rows[1].reason.as_deref(), Some("bug fixed"));
    assert_eq!(rows[1].payload["count"], 1);
    assert_eq!(
        rows[1].target_id.map(|id| id.to_string()),
        Some(envelope.event_id)
    );
}

#[tokio::test]
async fn replay_all_replays_this_services_matching_letters_and_counts_them() {
    let mut w = World::start().await;
    let first = w.dead_letter(&event("user-a", "1")).await;
    let second = w.dead_letter(&event("user-b", "2")).await;
    // Another service's dead letter in the same stream.
    let foreign = w
        .publish_as(
            "josh.dlq.billing".to_owned(),
            "foreign",
            event("user-c", "3").encode_to_vec(),
        )
        .await;
    w.recorder.failing.store(false, Ordering::SeqCst);
    let engineering = w.token("engineering").await;

    let not_ours = w
        .client
        .replay_dead_letters(authed(replay_one(foreign, "mine?"), &engineering))
        .await;
    assert_eq!(not_ours.unwrap_err().code(), Code::NotFound);
    let none = w
        .client
        .replay_dead_letters(authed(
            replay_all("josh.evt.sms.>", "sms only"),
            &engineering,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(none.replayed.is_empty());

    let all = w
        .client
        .replay_dead_letters(authed(replay_all("", "all fixed"), &engineering))
        .await
        .unwrap()
        .into_inner();
    let sequences: Vec<u64> = all.replayed.iter().map(|l| l.sequence).collect();
    assert_eq!(sequences, [first.sequence, second.sequence]);
    wait_until("both replayed effects", DEADLINE, || async {
        w.effects().await == 2
    })
    .await
    .unwrap();
    let billing = bus::dlq::list(&w.js, Some("billing"), 10).await.unwrap();
    assert_eq!(billing.len(), 1, "another service's letter is left alone");

    let rows = testing::audit_rows(&w.db.pool, "dlq.replay").await;
    let counts: Vec<_> = rows.iter().map(|r| r.payload["count"].clone()).collect();
    assert_eq!(counts, [0, 2], "{rows:?}");
    assert_eq!(rows[1].payload["sequences"], serde_json::json!(sequences));
    assert_eq!(rows[1].payload["selected"]["all"], true);
}

#[tokio::test]
async fn a_letter_that_fails_again_keeps_its_history() {
    let mut w = World::start().await;
    let envelope = event("user-a", "1");
    let letter = w.dead_letter(&envelope).await;
    let ops = w.token("ops").await;
    w.client
        .replay_dead_letters(authed(replay_one(letter.sequence, "try again"), &ops))
        .await
        .unwrap();
    wait_until("the second dead letter", DEADLINE, || async {
        w.letters()
            .await
            .iter()
            .any(|l| l.sequence > letter.sequence)
    })
    .await
    .unwrap();
    let listed = w
        .client
        .list_dead_letters(authed(list(""), &ops))
        .await
        .unwrap()
        .into_inner();
    let [again] = listed.dead_letters.as_slice() else {
        panic!("one letter: {listed:?}");
    };
    assert_eq!(again.event_id, envelope.event_id);
    assert_eq!((again.attempts, again.replays), (4, 1));
    assert_eq!(
        again.first_failed_at,
        proto::timestamp::to_timestamp_opt(letter.first_failed_at)
    );
    let (first, last) = (
        again.first_failed_at.unwrap(),
        again.last_failed_at.unwrap(),
    );
    assert!((last.seconds, last.nanos) >= (first.seconds, first.nanos));
    assert_eq!(w.effects().await, 0);
}

#[tokio::test]
async fn discard_drops_a_letter_unhandled_and_only_operators_discard() {
    let mut w = World::start().await;
    let envelope = event("user-a", "1");
    let letter = w.dead_letter(&envelope).await;
    w.recorder.failing.store(false, Ordering::SeqCst);
    let (support, ops) = (w.token("support").await, w.token("ops").await);

    let denied = w
        .client
        .discard_dead_letter(authed(discard(letter.sequence, "noise"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = w
        .client
        .discard_dead_letter(Request::new(discard(letter.sequence, "noise")))
        .await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = w
        .client
        .discard_dead_letter(authed(discard(letter.sequence, ""), &ops))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);

    let done = w
        .client
        .discard_dead_letter(authed(discard(letter.sequence, "test traffic"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.discarded.unwrap().event_id, envelope.event_id);
    assert!(w.letters().await.is_empty());
    w.consumer_settled().await;
    assert_eq!(w.effects().await, 0, "a discarded letter is never handled");
    let again = w
        .client
        .discard_dead_letter(authed(discard(letter.sequence, "twice"), &ops))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::NotFound);

    let rows = testing::audit_rows(&w.db.pool, "dlq.discard").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].outcome.as_deref(), Some("denied"));
    assert_eq!(rows[1].reason.as_deref(), Some("test traffic"));
    assert_eq!(
        rows[1].target_id.map(|id| id.to_string()),
        Some(envelope.event_id)
    );
}
