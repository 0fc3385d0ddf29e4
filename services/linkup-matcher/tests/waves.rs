//! Waves and fairness: 6/6/8 invites at 0, +2 h and +8 h while not locked, a thin pool sends what
//! it has, and the exposure caps (2 open, 5 a week) hold over many LinkUps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{Matcher, Spec, coffee, fingerprint};
use time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn waves_of_six_six_and_eight_go_out_at_zero_two_and_eight_hours() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(30).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 10)))
        .await
        .unwrap();
    let per_wave =
        |invites: &[(Uuid, Uuid, String, i32)], w| invites.iter().filter(|i| i.3 == w).count();
    assert_eq!(m.invites(linkup).await.len(), 6);
    assert_eq!(m.advance(Duration::minutes(119)).await, 0, "not yet");
    assert_eq!(m.advance(Duration::minutes(1)).await, 1);
    let invites = m.invites(linkup).await;
    assert_eq!((per_wave(&invites, 1), per_wave(&invites, 2)), (6, 6));
    m.advance(Duration::hours(6)).await;
    let invites = m.invites(linkup).await;
    assert_eq!(per_wave(&invites, 3), 8);
    assert_eq!(m.tick().await, 0, "each timer fires once");
    assert_eq!(m.events("linkup.invite_sent").await.len(), 20);
    let distinct: BTreeSet<Uuid> = invites.iter().map(|i| i.1).collect();
    assert_eq!(distinct.len(), 20, "one invite per person and LinkUp");
}

#[tokio::test]
async fn a_thin_pool_sends_what_it_has_and_a_locked_linkup_sends_no_more_waves() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(2).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 3)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    assert_eq!(invites.len(), 2);
    let level: i32 =
        sqlx::query_scalar("select relaxation_level from match_runs where linkup_id = $1")
            .bind(linkup)
            .fetch_one(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(level, 3, "a thin pool relaxes to the last level");
    m.reply(invites[0].0, true).await;
    m.reply(invites[1].0, true).await;
    assert_eq!(m.state(linkup).await, "locked");
    m.people(10).await;
    m.advance(Duration::hours(9)).await;
    assert_eq!(m.invites(linkup).await.len(), 2, "no waves after the lock");
}

#[tokio::test]
async fn fair_exposure_caps_hold_over_many_linkups() {
    let m = Matcher::new().await;
    let mut everyone = Vec::new();
    for i in 0..24u32 {
        let pace = f64::from(i % 5) * 0.2;
        everyone.push(
            m.person(Spec {
                fingerprint: fingerprint(pace, 0.5),
                patterns: coffee(&["morning", "day", "evening", "weekend"]),
                ..Spec::default()
            })
            .await,
        );
    }
    let windows = [
        "SAT_MORNING",
        "SUN_MORNING",
        "SAT_AFTERNOON",
        "SUN_AFTERNOON",
        "FRI_EVENING",
        "SAT_EVENING",
    ];
    for round in 0..6 {
        for k in 0..4 {
            let initiator = everyone[(round * 4 + k) % everyone.len()];
            m.create(&m.request(initiator, windows[round], (2, 6)))
                .await;
            let open: i64 = m
                .count("select coalesce(max(n), 0) from (select count(*) n from linkup_invites where state = 'pending' group by invited_user_id) t")
                .await;
            assert!(open <= 2, "someone holds {open} open invites");
        }
        // Everyone declines what they hold, freeing their open slots.
        let pending: Vec<Uuid> =
            sqlx::query_scalar("select id from linkup_invites where state = 'pending'")
                .fetch_all(&m.db.pool)
                .await
                .unwrap();
        for invite in pending {
            m.reply(invite, false).await;
        }
        m.clock.advance(Duration::hours(1));
    }
    let most: i64 = m
        .count(
            "select max(n) from (select count(*) n from linkup_invites group by invited_user_id) t",
        )
        .await;
    assert!(most <= 5, "someone got {most} invites in a week");
    let total = m.count("select count(*) from linkup_invites").await;
    assert!(
        total >= 24 * 4,
        "the caps bind, yet people are invited: {total}"
    );
}

#[tokio::test]
async fn a_paused_region_starts_nothing_and_its_waves_invite_nobody_until_it_resumes() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    let other = m.person(Spec::default()).await;
    m.people(30).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 10)))
        .await
        .unwrap();
    assert_eq!(m.invites(linkup).await.len(), 6, "wave 1 before the pause");
    let pause = |on: bool| {
        let sql = if on {
            r#"update regions set rules = rules || '{"paused": true}'"#
        } else {
            "update regions set rules = rules - 'paused'"
        };
        m.exec(sql)
    };
    pause(true).await;

    let refused = m.create(&m.request(other, "SUN_MORNING", (2, 6))).await;
    assert!(refused.is_none(), "no LinkUp starts in a paused region");
    let reasons: Vec<_> = m
        .events("linkup.request_refused")
        .await
        .into_iter()
        .map(|p| match p {
            proto::Payload::LinkupRequestRefused(r) => r.reason(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(reasons, [proto::v1::RefusalReason::Region]);

    assert_eq!(m.advance(Duration::hours(2)).await, 1, "wave 2 came due");
    assert_eq!(m.invites(linkup).await.len(), 6, "wave 2 invited nobody");
    let skipped: Vec<(i32, i32, Option<String>)> = sqlx::query_as(
        "select wave_number, invited_count, parameters->>'skipped' from match_runs
          where linkup_id = $1 order by wave_number",
    )
    .bind(linkup)
    .fetch_all(&m.db.pool)
    .await
    .unwrap();
    assert_eq!(skipped[1], (2, 0, Some("region_paused".to_owned())));

    pause(false).await;
    m.advance(Duration::hours(6)).await;
    let invites = m.invites(linkup).await;
    assert_eq!(
        invites.iter().filter(|i| i.3 == 3).count(),
        8,
        "resumed: wave 3 goes out"
    );
    assert_eq!(m.events("linkup.invite_sent").await.len(), 14);
}
