//! After the event: outcomes once per user with no-shows reported, contact exchange only on a
//! mutual yes (one canonical pair).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, Spec};
use proto::Payload;
use proto::v1::{Attendance, ContactChoice, ContactChoiceMade, OutcomeReported};
use time::macros::datetime;
use uuid::Uuid;

async fn completed(m: &Matcher, size: usize) -> (Uuid, Vec<Uuid>) {
    let (linkup, group) = m.locked(size).await;
    m.clock.set(datetime!(2026-11-28 19:00 UTC));
    m.tick().await;
    assert_eq!(m.state(linkup).await, "completed");
    (linkup, group)
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
    m.deliver_after(c, format!("choice:{}", Uuid::new_v4()))
        .await;
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
    m.deliver_after(report(g[0], Attendance::Attended, Some(true)), "o1".into())
        .await;
    m.deliver_after(report(g[1], Attendance::NoShow, None), "o2".into())
        .await;
    m.deliver_after(report(g[1], Attendance::NoShow, Some(false)), "o3".into())
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
    m.deliver_after(report(stranger, Attendance::Attended, None), "o4".into())
        .await;
    assert_eq!(m.count("select count(*) from linkup_outcomes").await, 2);
}
