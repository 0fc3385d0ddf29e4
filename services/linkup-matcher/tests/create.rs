//! Creating LinkUps: one per create key, the initiator's eligibility, the acceptance window,
//! draft → broadcasting, and the first wave with its texts and events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, START, Spec};
use proto::Payload;
use proto::v1::RefusalReason;
use time::Duration;
use time::macros::datetime;

#[tokio::test]
async fn a_request_creates_one_linkup_that_broadcasts_its_first_wave() {
    let m = Matcher::new().await;
    let initiator = m
        .person(Spec {
            first_name: "Ana".into(),
            ..Spec::default()
        })
        .await;
    m.people(10).await;
    let request = m.request(initiator, "SAT_MORNING", (2, 6));
    let linkup = m.create(&request).await.expect("created");
    assert_eq!(m.state(linkup).await, "broadcasting");
    let (ends, event): (time::OffsetDateTime, time::OffsetDateTime) =
        sqlx::query_as("select acceptance_window_ends_at, event_time from linkups where id = $1")
            .bind(linkup)
            .fetch_one(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(
        ends,
        START + Duration::hours(24),
        "24 h: Saturday 09:00 is far enough"
    );
    assert_eq!(
        event,
        datetime!(2026-11-28 17:00 UTC),
        "Saturday 09:00 in Los Angeles"
    );

    let invites = m.invites(linkup).await;
    assert_eq!(invites.len(), 6, "wave 1 is six invites");
    assert!(
        invites
            .iter()
            .all(|i| i.2 == "pending" && i.3 == 1 && i.1 != initiator)
    );
    let texts = m.texts().await;
    assert_eq!(texts.len(), 6);
    for sent in &texts {
        assert!(
            sent.text.contains("Coffee") && sent.text.contains("Sat 9am"),
            "{}",
            sent.text
        );
        assert!(
            sent.text.contains("Reply YES or NO by Fri 10am"),
            "{}",
            sent.text
        );
        assert_eq!(sent.command.purpose, proto::v1::SmsPurpose::Invite as i32);
        assert!(sent.command.validity_seconds > 0 && sent.command.validity_seconds <= 4 * 3600);
        assert_eq!(sent.command.region_timezone, "America/Los_Angeles");
    }
    assert_eq!(m.events("linkup.created").await.len(), 1);
    assert_eq!(m.events("linkup.invite_sent").await.len(), 6);
    let transitions = m
        .count(&format!(
            "select count(*) from domain_events where entity_id = '{linkup}'"
        ))
        .await;
    assert_eq!(transitions, 2, "created as draft, then broadcasting");

    // The same request again (a new event with the same create key) creates nothing new.
    let Some(Payload::LinkupRequested(mut req)) = request.payload.clone() else {
        panic!()
    };
    req.source_message_sid = "SMagain".into();
    let again = m.envelope(req, "linkup.requested:again".into(), initiator.to_string());
    assert_eq!(m.create(&again).await, Some(linkup));
    assert_eq!(m.count("select count(*) from linkups").await, 1);
    assert_eq!(m.invites(linkup).await.len(), 6);
    assert_eq!(m.events("linkup.created").await.len(), 1);
}

async fn refusal(m: &Matcher, spec: Spec, window: &str) -> (RefusalReason, String) {
    let initiator = m.person(spec).await;
    let before = m.events("linkup.request_refused").await.len();
    assert!(
        m.create(&m.request(initiator, window, (2, 6)))
            .await
            .is_none()
    );
    let events = m.events("linkup.request_refused").await;
    assert_eq!(events.len(), before + 1);
    let Some(Payload::LinkupRequestRefused(r)) = events.last() else {
        panic!()
    };
    assert_eq!(r.initiator_user_id, initiator.to_string());
    (r.reason(), r.suggested_time_window.clone())
}

#[tokio::test]
async fn ineligible_initiators_are_refused_with_the_reason() {
    let m = Matcher::new().await;
    let no_sub = Spec {
        initiate: false,
        ..Spec::default()
    };
    assert_eq!(
        refusal(&m, no_sub, "SAT_MORNING").await.0,
        RefusalReason::Subscription
    );
    let partial = Spec {
        profile_state: "partial",
        ..Spec::default()
    };
    assert_eq!(
        refusal(&m, partial, "SAT_MORNING").await.0,
        RefusalReason::ProfileIncomplete
    );
    let suspended = Spec {
        user_state: "suspended",
        ..Spec::default()
    };
    assert_eq!(
        refusal(&m, suspended, "SAT_MORNING").await.0,
        RefusalReason::AccountStatus
    );

    let held = m.person(Spec::default()).await;
    m.exec(&format!(
        "insert into safety_holds (user_id, state) values ('{held}', 'soft_hold')"
    ))
    .await;
    assert!(
        m.create(&m.request(held, "SAT_MORNING", (2, 6)))
            .await
            .is_none()
    );
    let Some(Payload::LinkupRequestRefused(r)) = m.events("linkup.request_refused").await.pop()
    else {
        panic!()
    };
    assert_eq!(r.reason(), RefusalReason::SafetyHold);

    m.exec("update regions set state = 'waitlisted'").await;
    assert_eq!(
        refusal(&m, Spec::default(), "SAT_MORNING").await.0,
        RefusalReason::Region
    );
    assert_eq!(m.count("select count(*) from linkups").await, 0);
}

#[tokio::test]
async fn a_window_too_soon_is_refused_with_a_later_suggestion() {
    let m = Matcher::new().await;
    // Thursday 10:00 local: Thursday evening (17:00) leaves 4 h of acceptance, fine; at 13:00 not.
    m.clock.advance(Duration::hours(3));
    let (reason, suggestion) = refusal(&m, Spec::default(), "THU_EVENING").await;
    assert_eq!(reason, RefusalReason::TooSoon);
    assert_eq!(suggestion, "FRI_EVENING");
    let (reason, _) = refusal(&m, Spec::default(), "MOON_MORNING").await;
    assert_eq!(reason, RefusalReason::InvalidBrief);
}

#[tokio::test]
async fn the_window_ends_three_hours_before_a_near_start() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(3).await;
    // Thursday 10:00 local, Thursday evening starts 17:00: the window ends at 14:00 local.
    let linkup = m
        .create(&m.request(initiator, "THU_EVENING", (2, 6)))
        .await
        .unwrap();
    let ends: time::OffsetDateTime =
        sqlx::query_scalar("select acceptance_window_ends_at from linkups where id = $1")
            .bind(linkup)
            .fetch_one(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(ends, datetime!(2026-11-26 22:00 UTC));
    let timers: Vec<(String, i32)> =
        sqlx::query_as("select kind, seq from linkup_timers order by due_at")
            .fetch_all(&m.db.pool)
            .await
            .unwrap();
    assert_eq!(
        timers,
        vec![("wave".into(), 2), ("window_end".into(), 0)],
        "no wave 3 after the window"
    );
}
