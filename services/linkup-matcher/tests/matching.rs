//! Candidates and scores: each hard filter excludes exactly whom it should, more-alike people
//! rank first, explainability carries real reasons, fair exposure holds over many LinkUps, and
//! waves go out at 0, +2 h and +8 h.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Matcher, START, Spec, fingerprint};
use proto::Payload;
use serde_json::json;
use time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn each_hard_filter_excludes_exactly_whom_it_should() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    let eligible = m.people(3).await;
    let mut excluded: BTreeMap<&str, Uuid> = BTreeMap::new();
    let other_region: Uuid = sqlx::query_scalar(
        r#"insert into regions (slug, display_name, state, geometry, rules)
           values ('nyc', 'NYC', 'open', '{}', '{"timezone":"America/New_York"}') returning id"#,
    )
    .fetch_one(&m.db.pool)
    .await
    .unwrap();
    excluded.insert(
        "other region",
        m.person(Spec {
            region: Some(other_region),
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "suspended",
        m.person(Spec {
            user_state: "suspended",
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "not entitled",
        m.person(Spec {
            participate: false,
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "profile partial",
        m.person(Spec {
            profile_state: "partial",
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "opted out",
        m.person(Spec {
            opted_out: true,
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "paused",
        m.person(Spec {
            preferences: json!({"invites_paused": true}),
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "boundary",
        m.person(Spec {
            boundaries: json!({"no_thanks": ["coffee"]}),
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "category boundary",
        m.person(Spec {
            boundaries: json!({"no_thanks": ["food_drink"]}),
            ..Spec::default()
        })
        .await,
    );
    excluded.insert(
        "busy",
        m.person(Spec {
            preferences: json!({"unavailable_windows": ["SAT_MORNING"]}),
            ..Spec::default()
        })
        .await,
    );
    let held = m.person(Spec::default()).await;
    m.exec(&format!(
        "insert into safety_holds (user_id, state) values ('{held}', 'soft_hold')"
    ))
    .await;
    excluded.insert("held", held);
    let blocked = m.person(Spec::default()).await;
    m.exec(&format!("insert into user_blocks (blocker_user_id, blocked_user_id) values ('{initiator}', '{blocked}')")).await;
    excluded.insert("blocked by initiator", blocked);
    let blocker = m.person(Spec::default()).await;
    m.exec(&format!("insert into user_blocks (blocker_user_id, blocked_user_id) values ('{blocker}', '{initiator}')")).await;
    excluded.insert("blocked the initiator", blocker);
    let recent = m.person(Spec::default()).await;
    m.past_linkup(
        &[initiator, recent],
        "completed",
        START - Duration::days(10),
        START - Duration::days(10),
    )
    .await;
    excluded.insert("grouped 10 days ago", recent);
    let overlapping = m.person(Spec::default()).await;
    let sat_nine = time::macros::datetime!(2026-11-28 17:00 UTC);
    let someone = m
        .person(Spec {
            participate: false,
            ..Spec::default()
        })
        .await;
    m.past_linkup(
        &[someone, overlapping],
        "locked",
        START,
        sat_nine + Duration::hours(1),
    )
    .await;
    excluded.insert("overlapping locked linkup", overlapping);
    let two_open = m.person(Spec::default()).await;
    m.other_invite(someone, two_open, "pending", START).await;
    m.other_invite(someone, two_open, "pending", START).await;
    excluded.insert("two open invites", two_open);
    let five_week = m.person(Spec::default()).await;
    for d in 1..=5 {
        m.other_invite(someone, five_week, "declined", START - Duration::days(d))
            .await;
    }
    excluded.insert("five invites this week", five_week);

    // Not excluded: grouped with the initiator 40 days ago, one open invite, 4 this week.
    let old_friend = m.person(Spec::default()).await;
    m.past_linkup(
        &[initiator, old_friend],
        "completed",
        START - Duration::days(40),
        START - Duration::days(40),
    )
    .await;
    let one_open = m.person(Spec::default()).await;
    m.other_invite(someone, one_open, "pending", START).await;

    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 6)))
        .await
        .unwrap();
    let invited: BTreeSet<Uuid> = m.invites(linkup).await.into_iter().map(|i| i.1).collect();
    let mut expected: BTreeSet<Uuid> = eligible.into_iter().collect();
    expected.insert(old_friend);
    expected.insert(one_open);
    assert_eq!(invited.len(), 5);
    for (why, user) in &excluded {
        assert!(!invited.contains(user), "{why} was invited");
    }
    assert_eq!(
        invited, expected,
        "everyone eligible is invited from a thin pool"
    );
    // The initiator never invites themselves.
    assert!(!invited.contains(&initiator));
}

#[tokio::test]
async fn more_alike_people_are_invited_first_with_real_reasons() {
    let m = Matcher::new().await;
    let initiator = m
        .person(Spec {
            fingerprint: fingerprint(0.2, 0.8),
            ..Spec::default()
        })
        .await;
    let mut by_distance = Vec::new();
    for i in 0..12u32 {
        let d = f64::from(i) * 0.05;
        let user = m
            .person(Spec {
                fingerprint: fingerprint(0.2 + d, 0.8 - d),
                ..Spec::default()
            })
            .await;
        by_distance.push(user);
    }
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 6)))
        .await
        .unwrap();
    let invited: BTreeSet<Uuid> = m.invites(linkup).await.into_iter().map(|i| i.1).collect();
    let closest: BTreeSet<Uuid> = by_distance[..6].iter().copied().collect();
    assert_eq!(invited, closest, "the six most alike are in wave 1");

    let rows: Vec<(Uuid, serde_json::Value)> = sqlx::query_as(
        "select invited_user_id, explainability from linkup_invites where linkup_id = $1",
    )
    .bind(linkup)
    .fetch_all(&m.db.pool)
    .await
    .unwrap();
    let score = |u: &Uuid| {
        rows.iter().find(|r| r.0 == *u).unwrap().1["final_score"]
            .as_f64()
            .unwrap()
    };
    assert!(
        score(&by_distance[0]) > score(&by_distance[5]),
        "closer scores higher"
    );
    for (_, e) in &rows {
        let passed = e["filters"]["passed"].as_array().unwrap();
        assert_eq!(passed.len(), 14, "{e}");
        assert!(passed.contains(&json!("not_blocked")) && passed.contains(&json!("fair_exposure")));
        assert_eq!(e["filters"]["failed"], json!([]));
        let reasons = e["top_reasons"].as_array().unwrap();
        assert_eq!(reasons[0], "you both like coffee", "{e}");
        assert!(reasons.len() >= 2, "{e}");
        for key in ["friend_score", "moment_fit", "final_score"] {
            let v = e[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{key} {v}");
        }
        assert!(e["relaxation"]["level"].as_u64().unwrap() <= 3);
        // No private attributes, safety state or location.
        let text = e.to_string();
        assert!(
            !text.contains("soft_hold") && !text.contains("phone") && !text.contains("zip"),
            "{text}"
        );
    }
    let closest_reasons =
        rows.iter().find(|r| r.0 == by_distance[0]).unwrap().1["top_reasons"].clone();
    assert!(
        closest_reasons
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("similar ")),
        "{closest_reasons}"
    );
    let run: (i32, i32) =
        sqlx::query_as("select pool_size, invited_count from match_runs where linkup_id = $1")
            .bind(linkup)
            .fetch_one(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(run.1, 6);
}

#[tokio::test]
async fn reliable_people_rank_above_no_shows_when_otherwise_alike() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    let other = m
        .person(Spec {
            participate: false,
            ..Spec::default()
        })
        .await;
    let people = m.people(12).await;
    let (reliable, flaky) = (&people[..6], &people[6..]);
    let when = START - Duration::days(60);
    for (group, attendance) in [(reliable, "attended"), (flaky, "no_show")] {
        for user in group {
            let past = m
                .past_linkup(&[other, *user], "completed", when, when)
                .await;
            m.exec(&format!(
                "insert into linkup_outcomes (linkup_id, user_id, attendance_response, do_again) values ('{past}', '{user}', '{attendance}', {})",
                attendance == "attended"
            ))
            .await;
        }
    }
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 6)))
        .await
        .unwrap();
    let invited: BTreeSet<Uuid> = m.invites(linkup).await.into_iter().map(|i| i.1).collect();
    assert_eq!(
        invited,
        reliable.iter().copied().collect(),
        "REL breaks the tie between equals"
    );
    let rel: f64 = sqlx::query_scalar("select (explainability->'components'->>'rel')::float8 from linkup_invites where linkup_id = $1 limit 1")
        .bind(linkup)
        .fetch_one(&m.db.pool)
        .await
        .unwrap();
    assert!(
        (rel - 0.58).abs() < 1e-9,
        "0.5 + attended 0.05 + do-again 0.03 = {rel}"
    );
}

#[tokio::test]
async fn two_time_options_are_offered_and_the_lock_takes_the_majority() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(6).await;
    let Some(Payload::LinkupRequested(mut req)) =
        m.request(initiator, "SAT_MORNING", (2, 4)).payload
    else {
        panic!()
    };
    req.brief.as_mut().unwrap().option_b_time_window = "SUN_AFTERNOON".into();
    let envelope = m.envelope(req, "ab".into(), initiator.to_string());
    let linkup = m.create(&envelope).await.unwrap();
    let texts = m.texts().await;
    assert!(
        texts[0].text.contains("A) Sat 9am or B) Sun 12pm")
            && texts[0].text.contains("Reply A, B or NO"),
        "{}",
        texts[0].text
    );
    let invites = m.invites(linkup).await;
    for (invite, option) in invites.iter().take(3).zip(["B", "A", "B"]) {
        let mut reply = m.reply_envelope(invite.0, true);
        let Some(Payload::InviteReplied(r)) = reply.payload.as_mut() else {
            panic!()
        };
        r.selected_option = option.into();
        m.deliver_reply(&reply).await;
    }
    assert_eq!(m.state(linkup).await, "locked");
    let Some(Payload::LinkupLocked(l)) = m.events("linkup.locked").await.pop() else {
        panic!()
    };
    assert_eq!(l.selected_option, "B");
    let event: time::OffsetDateTime =
        sqlx::query_scalar("select event_time from linkups where id = $1")
            .bind(linkup)
            .fetch_one(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(
        event,
        time::macros::datetime!(2026-11-29 20:00 UTC),
        "Sunday 12:00 in Los Angeles"
    );
}
