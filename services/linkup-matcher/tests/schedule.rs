//! The schedule after a lock: one reminder at 09:00 local on the event day (or an hour after a
//! late lock), completion at event time + 2 h, each firing once at the right simulated time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Matcher, Spec};
use proto::Payload;
use proto::v1::{ReminderType, SmsPurpose};
use time::Duration;
use time::macros::datetime;
use uuid::Uuid;

async fn locked_linkup(m: &Matcher, window: &str) -> (Uuid, Vec<Uuid>) {
    let initiator = m.person(Spec::default()).await;
    m.people(4).await;
    let linkup = m
        .create(&m.request(initiator, window, (2, 3)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    m.reply(invites[0].0, true).await;
    m.reply(invites[1].0, true).await;
    assert_eq!(m.state(linkup).await, "locked");
    (linkup, m.participants(linkup).await)
}

async fn reminders(m: &Matcher) -> Vec<String> {
    m.texts()
        .await
        .into_iter()
        .filter(|s| s.command.purpose == SmsPurpose::Reminder as i32)
        .map(|s| s.text)
        .collect()
}

#[tokio::test]
async fn the_reminder_fires_once_at_nine_local_and_completion_two_hours_after_the_start() {
    let m = Matcher::new().await;
    let (linkup, group) = locked_linkup(&m, "SAT_AFTERNOON").await;
    let nine_sat = datetime!(2026-11-28 17:00 UTC); // 09:00 in Los Angeles
    m.clock.set(nine_sat - Duration::minutes(1));
    m.tick().await;
    assert!(reminders(&m).await.is_empty(), "not before 09:00");
    m.clock.set(nine_sat);
    assert_eq!(m.tick().await, 1);
    let sent = reminders(&m).await;
    assert_eq!(sent.len(), group.len(), "one reminder per participant");
    assert!(
        sent[0].contains("Coffee Sat 12pm") && sent[0].contains("DROP"),
        "{}",
        sent[0]
    );
    let Some(Payload::ReminderDue(r)) = m.events("linkup.reminder_due").await.pop() else {
        panic!()
    };
    assert_eq!(r.reminder_type(), ReminderType::EventDay);
    assert_eq!(r.user_ids.len(), group.len());
    m.advance(Duration::hours(1)).await;
    assert_eq!(reminders(&m).await.len(), group.len(), "once");

    // The event starts at 12:00 local (20:00 UTC); completed at 14:00 local.
    m.clock.set(datetime!(2026-11-28 21:59 UTC));
    m.tick().await;
    assert_eq!(m.state(linkup).await, "locked");
    m.clock.set(datetime!(2026-11-28 22:00 UTC));
    m.tick().await;
    assert_eq!(m.state(linkup).await, "completed");
    let completed = m.events("linkup.completed").await;
    assert_eq!(completed.len(), 1);
    let Some(Payload::LinkupCompleted(c)) = completed.first() else {
        panic!()
    };
    assert_eq!(c.participant_user_ids.len(), group.len());
    m.advance(Duration::days(1)).await;
    assert_eq!(m.events("linkup.completed").await.len(), 1, "once");
    let prompts_end: i64 = m.count(&format!("select count(*) from linkup_timers where linkup_id = '{linkup}' and kind = 'prompts_end' and due_at = '2026-12-05 22:00:00+00'")).await;
    assert_eq!(
        prompts_end, 1,
        "post-event prompts end 7 days after completion"
    );
}

#[tokio::test]
async fn a_lock_after_nine_on_the_event_day_is_reminded_an_hour_later() {
    let m = Matcher::new().await;
    m.clock.advance(Duration::hours(1)); // Thursday 11:00 local
    let (_, group) = locked_linkup(&m, "THU_EVENING").await;
    m.advance(Duration::minutes(59)).await;
    assert!(reminders(&m).await.is_empty());
    m.advance(Duration::minutes(1)).await;
    assert_eq!(reminders(&m).await.len(), group.len());
    let Some(Payload::ReminderDue(r)) = m.events("linkup.reminder_due").await.pop() else {
        panic!()
    };
    assert_eq!(r.reminder_type(), ReminderType::AfterLateLock);
}

#[tokio::test]
async fn the_group_is_listed_initiator_first_then_in_the_order_people_said_yes() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(4).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_AFTERNOON", (2, 4)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    // Yeses in the reverse order of the users' ids (which used to break ties).
    let mut order: Vec<_> = invites.iter().take(3).collect();
    order.sort_by_key(|i| std::cmp::Reverse(i.1));
    for invite in &order {
        m.clock.advance(Duration::minutes(1));
        m.reply(invite.0, true).await;
    }
    assert_eq!(m.state(linkup).await, "locked");
    let expected: Vec<String> = std::iter::once(initiator)
        .chain(order.iter().map(|i| i.1))
        .map(|u| u.to_string())
        .collect();
    let Some(Payload::LinkupLocked(locked)) = m.events("linkup.locked").await.pop() else {
        panic!("no lock")
    };
    assert_eq!(locked.participant_user_ids, expected);
    m.clock.set(datetime!(2026-11-28 22:00 UTC));
    m.tick().await;
    let Some(Payload::LinkupCompleted(done)) = m.events("linkup.completed").await.pop() else {
        panic!("not completed")
    };
    assert_eq!(
        done.participant_user_ids, expected,
        "the questions list the others in the same order"
    );
}
