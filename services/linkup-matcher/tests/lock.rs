//! Replies and the lock: YES/NO updates an invite once, the group locks exactly at max_size or
//! at the window's end when min_size is met, and expires below it; everyone is told.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, Spec};
use proto::Payload;
use proto::v1::{LockReason, SmsPurpose};
use time::Duration;
use uuid::Uuid;

async fn setup(m: &Matcher, people: usize, sizes: (u32, u32)) -> (Uuid, Uuid, Vec<(Uuid, Uuid)>) {
    let initiator = m
        .person(Spec {
            first_name: "Ana".into(),
            ..Spec::default()
        })
        .await;
    m.people(people).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", sizes))
        .await
        .unwrap();
    let invites = m
        .invites(linkup)
        .await
        .into_iter()
        .map(|i| (i.0, i.1))
        .collect();
    (initiator, linkup, invites)
}

#[tokio::test]
async fn the_group_locks_exactly_at_max_size_and_late_yeses_hear_it_filled() {
    let m = Matcher::new().await;
    let (initiator, linkup, invites) = setup(&m, 10, (2, 4)).await;
    m.reply(invites[0].0, true).await;
    m.reply(invites[1].0, false).await;
    m.reply(invites[2].0, true).await;
    assert_eq!(m.state(linkup).await, "broadcasting");
    m.reply(invites[3].0, true).await;
    assert_eq!(m.state(linkup).await, "locked", "initiator + 3 = max 4");

    let mut group = vec![initiator, invites[0].1, invites[2].1, invites[3].1];
    group.sort();
    assert_eq!(m.participants(linkup).await, group);
    let states: Vec<String> = m.invites(linkup).await.into_iter().map(|i| i.2).collect();
    assert_eq!(states.iter().filter(|s| *s == "accepted").count(), 3);
    assert_eq!(states.iter().filter(|s| *s == "declined").count(), 1);
    assert_eq!(
        states.iter().filter(|s| *s == "closed").count(),
        2,
        "the rest closed"
    );
    let locked = m.events("linkup.locked").await;
    assert_eq!(locked.len(), 1);
    let Some(Payload::LinkupLocked(l)) = locked.first() else {
        panic!()
    };
    assert_eq!(l.reason(), LockReason::MaxSizeReached);
    assert_eq!(l.participant_user_ids.len(), 4);
    assert_eq!(l.lock_version, 1);
    assert_eq!(m.events("linkup.invite_closed").await.len(), 2);

    for user in &group {
        let texts = m.texts_to(*user).await;
        let notice = texts
            .iter()
            .find(|t| t.starts_with("You're in!"))
            .expect("lock notice");
        assert!(
            !notice.contains("http"),
            "the router sends the page link: {notice}"
        );
        assert!(
            notice.contains("Reply DROP")
                && notice.contains("4 people")
                && notice.contains("Sat 9am"),
            "{notice}"
        );
    }

    // A yes after the lock: told kindly, once, and nothing changes.
    let late = invites[4];
    m.reply(late.0, true).await;
    m.reply(late.0, true).await;
    let filled: Vec<String> = m
        .texts_to(late.1)
        .await
        .into_iter()
        .filter(|t| t.contains("already filled"))
        .collect();
    assert_eq!(filled.len(), 1);
    // Duplicates from those in the group change nothing.
    m.reply(invites[0].0, true).await;
    m.reply(invites[0].0, false).await;
    assert_eq!(m.participants(linkup).await, group);
    assert_eq!(m.events("linkup.locked").await.len(), 1);
    // The window's end later is a second lock attempt: nothing changes.
    m.advance(Duration::hours(25)).await;
    assert_eq!(m.state(linkup).await, "locked");
    let version: i32 = sqlx::query_scalar("select lock_version from linkups where id = $1")
        .bind(linkup)
        .fetch_one(&m.db.pool)
        .await
        .unwrap();
    assert_eq!(version, 1);
}

#[tokio::test]
async fn a_reply_updates_the_invite_once() {
    let m = Matcher::new().await;
    let (_, linkup, invites) = setup(&m, 6, (2, 6)).await;
    m.reply(invites[0].0, false).await;
    m.reply(invites[0].0, true).await;
    let states: Vec<(Uuid, String)> = m
        .invites(linkup)
        .await
        .into_iter()
        .map(|i| (i.0, i.2))
        .collect();
    assert_eq!(
        states.iter().find(|s| s.0 == invites[0].0).unwrap().1,
        "declined"
    );
    let envelope = m.reply_envelope(invites[1].0, true);
    m.deliver_reply(&envelope).await;
    m.deliver_reply(&envelope).await;
    let transitions = m
        .count(&format!(
            "select count(*) from domain_events where entity_id = '{}'",
            invites[1].0
        ))
        .await;
    assert_eq!(transitions, 2, "sent, then accepted once");
}

#[tokio::test]
async fn the_window_end_locks_when_min_size_is_met() {
    let m = Matcher::new().await;
    let (initiator, linkup, invites) = setup(&m, 8, (3, 6)).await;
    m.reply(invites[0].0, true).await;
    m.reply(invites[1].0, true).await;
    m.advance(Duration::hours(24)).await;
    assert_eq!(m.state(linkup).await, "locked");
    let Some(Payload::LinkupLocked(l)) = m.events("linkup.locked").await.pop() else {
        panic!()
    };
    assert_eq!(l.reason(), LockReason::WindowEndedMinMet);
    let mut group = vec![initiator, invites[0].1, invites[1].1];
    group.sort();
    assert_eq!(m.participants(linkup).await, group);
    let lock_texts = m
        .texts()
        .await
        .into_iter()
        .filter(|s| s.command.purpose == SmsPurpose::LockNotice as i32)
        .count();
    assert_eq!(lock_texts, 3);
}

#[tokio::test]
async fn the_window_end_expires_below_min_size_and_tells_everyone() {
    let m = Matcher::new().await;
    let (initiator, linkup, invites) = setup(&m, 8, (3, 6)).await;
    m.reply(invites[0].0, true).await;
    m.advance(Duration::hours(24)).await;
    assert_eq!(m.state(linkup).await, "expired");
    assert!(m.participants(linkup).await.is_empty());
    let Some(Payload::LinkupExpired(e)) = m.events("linkup.expired").await.pop() else {
        panic!()
    };
    assert_eq!(e.accepted_user_ids, vec![invites[0].1.to_string()]);
    assert!(
        m.texts_to(initiator)
            .await
            .iter()
            .any(|t| t.contains("another time or activity"))
    );
    assert!(
        m.texts_to(invites[0].1)
            .await
            .iter()
            .any(|t| t.contains("didn't come together"))
    );
    let open = m.count(&format!("select count(*) from linkup_invites where linkup_id = '{linkup}' and state in ('pending', 'accepted')")).await;
    assert_eq!(open, 0, "every invite closed");
    // A late yes hears it is no longer open.
    m.reply(invites[1].0, true).await;
    assert!(
        m.texts_to(invites[1].1)
            .await
            .iter()
            .any(|t| t.contains("isn't open any more"))
    );
}

#[tokio::test]
async fn safety_is_rechecked_at_lock() {
    let m = Matcher::new().await;
    let (initiator, linkup, invites) = setup(&m, 8, (2, 6)).await;
    m.reply(invites[0].0, true).await;
    m.reply(invites[1].0, true).await;
    let held = invites[1].1;
    m.exec(&format!(
        "insert into safety_holds (user_id, state) values ('{held}', 'soft_hold')"
    ))
    .await;
    m.advance(Duration::hours(24)).await;
    assert_eq!(m.state(linkup).await, "locked");
    let mut group = vec![initiator, invites[0].1];
    group.sort();
    assert_eq!(
        m.participants(linkup).await,
        group,
        "the held person is not in the group"
    );
    assert!(
        m.texts_to(held)
            .await
            .iter()
            .all(|t| !t.starts_with("You're in!"))
    );
}
