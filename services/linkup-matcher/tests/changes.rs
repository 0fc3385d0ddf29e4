//! Changes to a LinkUp: the initiator cancels before or after the lock, a participant DROPs
//! (the group goes on, or one replacement wave, or cancel).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, Spec};
use proto::Payload;
use proto::v1::{CancelReason, CancelRequested, DropRequested};
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

#[tokio::test]
async fn the_initiator_cancels_before_the_lock_and_those_who_said_yes_are_told() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(6).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (3, 6)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    m.reply(invites[0].0, true).await;
    let cancel = CancelRequested {
        linkup_id: linkup.to_string(),
        user_id: initiator.to_string(),
        ..CancelRequested::default()
    };
    m.deliver_after(cancel, "cancel".into()).await;
    assert_eq!(m.state(linkup).await, "canceled");
    assert!(
        m.texts_to(invites[0].1)
            .await
            .iter()
            .any(|t| t.contains("is canceled"))
    );
    assert!(
        m.texts_to(invites[1].1)
            .await
            .iter()
            .all(|t| !t.contains("is canceled")),
        "undecided invitees are not texted"
    );
    let Some(Payload::LinkupCanceled(c)) = m.events("linkup.canceled").await.pop() else {
        panic!()
    };
    assert!(!c.was_locked);
    assert_eq!(c.reason(), CancelReason::Initiator);
    assert_eq!(c.affected_user_ids, vec![invites[0].1.to_string()]);
    let open = m.count(&format!("select count(*) from linkup_invites where linkup_id = '{linkup}' and state in ('pending','accepted')")).await;
    assert_eq!(open, 0);
}

#[tokio::test]
async fn a_cancel_after_the_lock_tells_the_whole_group() {
    let m = Matcher::new().await;
    let (linkup, g) = m.locked(3).await;
    let stranger = CancelRequested {
        linkup_id: linkup.to_string(),
        user_id: g[1].to_string(),
        ..CancelRequested::default()
    };
    m.deliver_after(stranger, "c1".into()).await;
    assert_eq!(
        m.state(linkup).await,
        "locked",
        "only the initiator cancels"
    );
    let cancel = CancelRequested {
        linkup_id: linkup.to_string(),
        user_id: g[0].to_string(),
        reason_text: "sick".into(),
        ..CancelRequested::default()
    };
    m.deliver_after(cancel, "c2".into()).await;
    assert_eq!(m.state(linkup).await, "canceled");
    for user in &g[1..] {
        assert!(
            m.texts_to(*user)
                .await
                .iter()
                .any(|t| t.contains("is canceled"))
        );
    }
    let reason: String = sqlx::query_scalar("select canceled_reason from linkups where id = $1")
        .bind(linkup)
        .fetch_one(&m.db.pool)
        .await
        .unwrap();
    assert_eq!(reason, "sick");
    m.clock.set(datetime!(2026-11-28 19:00 UTC));
    m.tick().await;
    assert_eq!(
        m.state(linkup).await,
        "canceled",
        "a canceled LinkUp never completes"
    );
    assert_eq!(
        m.count("select count(*) from linkup_reminders where status = 'sent'")
            .await,
        0,
        "nor is reminded"
    );
}

fn drop_req(linkup: Uuid, user: Uuid) -> DropRequested {
    DropRequested {
        linkup_id: linkup.to_string(),
        user_id: user.to_string(),
        ..DropRequested::default()
    }
}

#[tokio::test]
async fn a_drop_that_keeps_min_size_goes_on() {
    let m = Matcher::new().await;
    let (linkup, g) = m.locked(4).await;
    m.deliver_after(drop_req(linkup, g[3]), "d1".into()).await;
    assert_eq!(m.state(linkup).await, "locked");
    let Some(Payload::ParticipantDropped(d)) = m.events("linkup.participant_dropped").await.pop()
    else {
        panic!()
    };
    assert_eq!(
        (
            d.remaining_count,
            d.still_meets_min,
            d.replacement_wave_started
        ),
        (3, true, false)
    );
    assert!(
        m.texts_to(g[0])
            .await
            .iter()
            .any(|t| t.contains("still on with 3"))
    );
    assert!(
        m.texts_to(g[3])
            .await
            .iter()
            .any(|t| t.contains("you're out"))
    );
}

#[tokio::test]
async fn a_drop_under_min_size_starts_one_replacement_wave_and_a_yes_restores_the_group() {
    let m = Matcher::new().await;
    let (linkup, g) = m.locked(2).await;
    m.people(6).await;
    // Saturday 07:00 local: the replacement deadline is 08:00 (an hour before the start), 2 h is too short.
    m.clock.set(datetime!(2026-11-28 13:00 UTC));
    m.deliver_after(drop_req(linkup, g[1]), "d2".into()).await;
    let Some(Payload::ParticipantDropped(d)) = m.events("linkup.participant_dropped").await.pop()
    else {
        panic!()
    };
    assert!(d.replacement_wave_started);
    let replacement: Vec<_> = m
        .invites(linkup)
        .await
        .into_iter()
        .filter(|i| i.3 == 2)
        .collect();
    assert!(!replacement.is_empty() && replacement.len() <= 6);
    m.reply(replacement[0].0, true).await;
    let mut group = vec![g[0], replacement[0].1];
    group.sort();
    let confirmed: Vec<Uuid> = sqlx::query_scalar("select user_id from linkup_participants where linkup_id = $1 and status = 'confirmed' order by user_id")
        .bind(linkup)
        .fetch_all(&m.db.pool)
        .await
        .unwrap();
    assert_eq!(confirmed, group);
    assert!(
        m.texts_to(replacement[0].1)
            .await
            .iter()
            .any(|t| t.starts_with("You're in!"))
    );
    m.advance(Duration::hours(4)).await;
    assert_eq!(m.state(linkup).await, "locked", "the group goes on");
}

#[tokio::test]
async fn a_failed_replacement_cancels_and_tells_everyone() {
    let m = Matcher::new().await;
    let (linkup, g) = m.locked(2).await;
    m.clock.set(datetime!(2026-11-28 12:00 UTC)); // Saturday 04:00 local
    m.deliver_after(drop_req(linkup, g[1]), "d3".into()).await;
    assert_eq!(m.state(linkup).await, "locked");
    m.advance(Duration::hours(4)).await;
    assert_eq!(m.state(linkup).await, "canceled");
    let Some(Payload::LinkupCanceled(c)) = m.events("linkup.canceled").await.pop() else {
        panic!()
    };
    assert_eq!(c.reason(), CancelReason::ReplacementFailed);
    assert!(
        m.texts_to(g[0])
            .await
            .iter()
            .any(|t| t.contains("is canceled"))
    );
}
