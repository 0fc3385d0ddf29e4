//! After the event and changes to a LinkUp: outcomes once per user with no-shows reported, contact
//! exchange only on a mutual yes (one canonical pair), cancel before and after the lock, DROP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, Spec};
use proto::Payload;
use proto::v1::{
    Attendance, CancelReason, CancelRequested, ContactChoice, ContactChoiceMade, DropRequested,
    OutcomeReported,
};
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

/// A LinkUp of `size` people (min 2) locked on Thursday for Saturday morning; returns it and
/// its participants, initiator first.
async fn locked(m: &Matcher, size: usize) -> (Uuid, Vec<Uuid>) {
    let initiator = m
        .person(Spec {
            first_name: "Ana".into(),
            ..Spec::default()
        })
        .await;
    for name in ["Bo", "Cy", "Di", "Ed", "Flo", "Gus"] {
        m.person(Spec {
            first_name: name.into(),
            ..Spec::default()
        })
        .await;
    }
    // A pair locks at the window's end (max_size must exceed min_size); larger groups fill up.
    let max = u32::try_from(size.max(3)).unwrap();
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, max)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    for invite in invites.iter().take(size - 1) {
        m.reply(invite.0, true).await;
    }
    if size == 2 {
        m.advance(Duration::hours(24)).await;
    }
    assert_eq!(m.state(linkup).await, "locked");
    let mut group = vec![initiator];
    group.extend(invites.iter().take(size - 1).map(|i| i.1));
    (linkup, group)
}

async fn completed(m: &Matcher, size: usize) -> (Uuid, Vec<Uuid>) {
    let (linkup, group) = locked(m, size).await;
    m.clock.set(datetime!(2026-11-28 19:00 UTC));
    m.tick().await;
    assert_eq!(m.state(linkup).await, "completed");
    (linkup, group)
}

async fn deliver(m: &Matcher, payload: impl Into<Payload>, key: String) {
    let envelope = m.envelope(payload, key, "p".into());
    bus::deliver(
        &m.pool,
        linkup_matcher::SERVICE,
        &linkup_matcher::after::AfterHandler::new(m.ctx.clone()),
        &envelope,
    )
    .await
    .unwrap();
}

async fn choose(m: &Matcher, linkup: Uuid, chooser: Uuid, targets: &[Uuid], yes: bool) {
    let c = ContactChoiceMade {
        linkup_id: linkup.to_string(),
        chooser_user_id: chooser.to_string(),
        target_user_ids: targets.iter().map(Uuid::to_string).collect(),
        choice: if yes {
            ContactChoice::Yes
        } else {
            ContactChoice::No
        }
        .into(),
        ..ContactChoiceMade::default()
    };
    deliver(m, c, format!("choice:{}", Uuid::new_v4())).await;
}

async fn first_and_phone(m: &Matcher, user: Uuid) -> (String, String) {
    sqlx::query_as("select first_name, phone_e164 from users where id = $1")
        .bind(user)
        .fetch_one(&m.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_a_mutual_yes_reveals_numbers_once_as_one_canonical_pair() {
    let m = Matcher::new().await;
    let (linkup, g) = completed(&m, 3).await;
    let (a, b, c) = (g[0], g[1], g[2]);
    choose(&m, linkup, a, &[b, c], true).await;
    assert_eq!(
        m.count("select count(*) from contact_exchanges").await,
        0,
        "one-sided yes reveals nothing"
    );
    choose(&m, linkup, c, &[a], false).await;
    choose(&m, linkup, b, &[a], true).await;
    choose(&m, linkup, b, &[a], true).await;
    let pairs: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select user_a_id, user_b_id from contact_exchanges")
            .fetch_all(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(
        pairs,
        vec![(a.min(b), a.max(b))],
        "one pair, canonical order"
    );
    assert_eq!(m.events("linkup.contact_exchanged").await.len(), 1);
    let (b_name, b_phone) = first_and_phone(&m, b).await;
    let (a_name, a_phone) = first_and_phone(&m, a).await;
    let to_a: Vec<String> = m
        .texts_to(a)
        .await
        .into_iter()
        .filter(|t| t.contains("said yes too"))
        .collect();
    let to_b: Vec<String> = m
        .texts_to(b)
        .await
        .into_iter()
        .filter(|t| t.contains("said yes too"))
        .collect();
    assert_eq!(to_a.len(), 1);
    assert!(
        to_a[0].contains(&b_name) && to_a[0].contains(&b_phone) && to_a[0].contains("BLOCK"),
        "{}",
        to_a[0]
    );
    assert_eq!(to_b.len(), 1);
    assert!(to_b[0].contains(&a_name) && to_b[0].contains(&a_phone));
    let (_, c_phone) = first_and_phone(&m, c).await;
    assert!(
        m.texts().await.iter().all(|s| !s.text.contains(&c_phone)),
        "C's number never sent"
    );
    assert!(
        m.texts_to(c)
            .await
            .iter()
            .all(|t| !t.contains("said yes too"))
    );
}

#[tokio::test]
async fn a_block_holds_back_a_mutual_yes() {
    let m = Matcher::new().await;
    let (linkup, g) = completed(&m, 2).await;
    m.exec(&format!(
        "insert into user_blocks (blocker_user_id, blocked_user_id) values ('{}', '{}')",
        g[1], g[0]
    ))
    .await;
    choose(&m, linkup, g[0], &[g[1]], true).await;
    choose(&m, linkup, g[1], &[g[0]], true).await;
    assert_eq!(m.count("select count(*) from contact_exchanges").await, 0);
}

#[tokio::test]
async fn outcomes_are_stored_once_per_user_and_no_shows_are_reported() {
    let m = Matcher::new().await;
    let (linkup, g) = completed(&m, 3).await;
    let report = |user: Uuid, attendance: Attendance, do_again: Option<bool>| OutcomeReported {
        linkup_id: linkup.to_string(),
        user_id: user.to_string(),
        attendance: attendance.into(),
        do_again,
        ..OutcomeReported::default()
    };
    deliver(
        &m,
        report(g[0], Attendance::Attended, Some(true)),
        "o1".into(),
    )
    .await;
    deliver(&m, report(g[1], Attendance::NoShow, None), "o2".into()).await;
    deliver(
        &m,
        report(g[1], Attendance::NoShow, Some(false)),
        "o3".into(),
    )
    .await;
    assert_eq!(m.count("select count(*) from linkup_outcomes").await, 2);
    let no_shows = m.events("linkup.no_show_recorded").await;
    assert_eq!(no_shows.len(), 1);
    let Some(Payload::NoShowRecorded(n)) = no_shows.first() else {
        panic!()
    };
    assert_eq!(n.user_id, g[1].to_string());
    let row: (String, Option<bool>) = sqlx::query_as(
        "select attendance_response, do_again from linkup_outcomes where user_id = $1",
    )
    .bind(g[1])
    .fetch_one(&m.db.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        ("no_show".to_owned(), Some(false)),
        "a new answer replaces the old"
    );
    // A no-show is no attendee: their choices reveal nothing.
    choose(&m, linkup, g[1], &[g[0]], true).await;
    choose(&m, linkup, g[0], &[g[1]], true).await;
    assert_eq!(m.count("select count(*) from contact_exchanges").await, 0);
    // Someone outside the LinkUp cannot report.
    let stranger = m.person(Spec::default()).await;
    deliver(
        &m,
        report(stranger, Attendance::Attended, None),
        "o4".into(),
    )
    .await;
    assert_eq!(m.count("select count(*) from linkup_outcomes").await, 2);
}

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
    deliver(&m, cancel, "cancel".into()).await;
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
    let (linkup, g) = locked(&m, 3).await;
    let stranger = CancelRequested {
        linkup_id: linkup.to_string(),
        user_id: g[1].to_string(),
        ..CancelRequested::default()
    };
    deliver(&m, stranger, "c1".into()).await;
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
    deliver(&m, cancel, "c2".into()).await;
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
    let (linkup, g) = locked(&m, 4).await;
    deliver(&m, drop_req(linkup, g[3]), "d1".into()).await;
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
    let (linkup, g) = locked(&m, 2).await;
    m.people(6).await;
    // Saturday 07:00 local: the replacement deadline is 08:00 (an hour before the start), 2 h is too short.
    m.clock.set(datetime!(2026-11-28 13:00 UTC));
    deliver(&m, drop_req(linkup, g[1]), "d2".into()).await;
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
    let (linkup, g) = locked(&m, 2).await;
    m.clock.set(datetime!(2026-11-28 12:00 UTC)); // Saturday 04:00 local
    deliver(&m, drop_req(linkup, g[1]), "d3".into()).await;
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
