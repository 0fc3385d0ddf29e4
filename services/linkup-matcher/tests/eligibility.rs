//! Losing eligibility withdraws pending invites (and cancels LinkUps the person started); the
//! post-event prompts end after 7 days with `no_response` for whoever never answered.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, Spec};
use linkup_matcher::eligibility::EligibilityHandler;
use proto::Payload;
use proto::v1::{
    Attendance, CancelReason, EntitlementChanged, InviteCloseReason, OutcomeReported,
    SafetyHoldChanged, SafetyHoldState,
};
use time::Duration;
use time::macros::datetime;

async fn deliver(m: &Matcher, payload: impl Into<Payload>, key: &str) {
    let envelope = m.envelope(payload, key.into(), "p".into());
    bus::deliver(
        &m.pool,
        linkup_matcher::SERVICE,
        &EligibilityHandler::new(m.ctx.clone()),
        &envelope,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_lapsed_entitlement_withdraws_pending_invites_only() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(6).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (3, 6)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    m.reply(invites[0].0, true).await;
    let (accepted, lapsed) = (invites[0].1, invites[1].1);
    for user in [accepted, lapsed] {
        let change = EntitlementChanged {
            user_id: user.to_string(),
            was_eligible_to_participate: true,
            ..EntitlementChanged::default()
        };
        deliver(&m, change, &format!("ent:{user}")).await;
    }
    let states: Vec<(uuid::Uuid, String)> = m
        .invites(linkup)
        .await
        .into_iter()
        .map(|i| (i.1, i.2))
        .collect();
    assert_eq!(states.iter().find(|s| s.0 == lapsed).unwrap().1, "closed");
    assert_eq!(
        states.iter().find(|s| s.0 == accepted).unwrap().1,
        "accepted",
        "the lock re-checks an accepted one"
    );
    let Some(Payload::InviteClosed(c)) = m.events("linkup.invite_closed").await.pop() else {
        panic!()
    };
    assert_eq!(
        (c.reason(), c.user_id.clone()),
        (InviteCloseReason::Ineligible, lapsed.to_string())
    );
    assert_eq!(m.state(linkup).await, "broadcasting");
}

#[tokio::test]
async fn a_hold_on_the_initiator_cancels_their_broadcasting_linkup() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(6).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (3, 6)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    m.reply(invites[0].0, true).await;
    let hold = SafetyHoldChanged {
        user_id: initiator.to_string(),
        state: SafetyHoldState::SoftHold.into(),
        ..SafetyHoldChanged::default()
    };
    deliver(&m, hold, "hold").await;
    assert_eq!(m.state(linkup).await, "canceled");
    let Some(Payload::LinkupCanceled(c)) = m.events("linkup.canceled").await.pop() else {
        panic!()
    };
    assert_eq!(c.reason(), CancelReason::InitiatorIneligible);
    assert!(
        m.texts_to(invites[0].1)
            .await
            .iter()
            .any(|t| t.contains("is canceled"))
    );
    assert!(
        m.texts_to(initiator)
            .await
            .iter()
            .all(|t| !t.contains("is canceled")),
        "the initiator hears from safety, not us"
    );
}

#[tokio::test]
async fn prompts_end_after_seven_days_with_no_response_for_the_silent() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(4).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (2, 3)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    m.reply(invites[0].0, true).await;
    m.reply(invites[1].0, true).await;
    m.clock.set(datetime!(2026-11-28 19:00 UTC));
    m.tick().await;
    assert_eq!(m.state(linkup).await, "completed");
    let answered = OutcomeReported {
        linkup_id: linkup.to_string(),
        user_id: initiator.to_string(),
        attendance: Attendance::Attended.into(),
        ..OutcomeReported::default()
    };
    let envelope = m.envelope(answered, "answered".into(), "p".into());
    bus::deliver(
        &m.pool,
        linkup_matcher::SERVICE,
        &linkup_matcher::after::AfterHandler::new(m.ctx.clone()),
        &envelope,
    )
    .await
    .unwrap();
    m.advance(Duration::days(7) - Duration::minutes(1)).await;
    assert_eq!(
        m.count("select count(*) from linkup_outcomes where attendance_response = 'no_response'")
            .await,
        0
    );
    m.advance(Duration::minutes(1)).await;
    assert_eq!(
        m.count("select count(*) from linkup_outcomes where attendance_response = 'no_response'")
            .await,
        2
    );
    assert_eq!(
        m.count("select count(*) from linkup_outcomes where attendance_response = 'attended'")
            .await,
        1
    );
    let events = m.events("linkup.outcome_reported").await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(
        |e| matches!(e, Payload::OutcomeReported(o) if o.attendance() == Attendance::NoResponse)
    ));
    m.advance(Duration::days(1)).await;
    assert_eq!(m.events("linkup.outcome_reported").await.len(), 2, "once");
}
