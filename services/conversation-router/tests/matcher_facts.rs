//! DROP, and the router's answers to the matcher's refusals and no-shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use proto::Payload;
use proto::v1::{LinkupRequestRefused, NoShowRecorded, RefusalReason};
use time::macros::datetime;

const ANN: &str = "+15555550201";
const BEN: &str = "+15555550202";

async fn locked(r: &Router) -> uuid::Uuid {
    r.onboard(ANN, "Ann").await;
    r.onboard(BEN, "Ben").await;
    let linkup = r.linkup(ANN, "coffee", "SAT_MORNING").await;
    sqlx::query("update linkups set state = 'locked', event_time = $2 where id = $1")
        .bind(linkup)
        .bind(datetime!(2026-11-28 17:00 UTC))
        .execute(&r.db.pool)
        .await
        .unwrap();
    r.seat(linkup, &[(ANN, "initiator"), (BEN, "participant")])
        .await;
    linkup
}

#[tokio::test]
async fn drop_leaves_as_a_participant_and_cancels_as_the_initiator() {
    let r = Router::new().await;
    r.onboard("+15555550203", "Cy").await;
    assert_eq!(
        r.text("+15555550203", "DROP").await,
        [copy::NOTHING_TO_DROP]
    );
    let linkup = locked(&r).await;
    assert_eq!(r.text(BEN, "drop").await, [copy::DROPPED]);
    assert_eq!(r.text(ANN, "Drop").await, [copy::CANCELING]);
    let drops = r.published("linkup.drop_requested").await;
    let Payload::DropRequested(d) = &drops[0] else {
        panic!()
    };
    assert_eq!(
        (d.linkup_id.clone(), d.user_id.clone()),
        (linkup.to_string(), r.user_id(BEN).await.to_string())
    );
    let cancels = r.published("linkup.cancel_requested").await;
    let Payload::CancelRequested(c) = &cancels[0] else {
        panic!()
    };
    assert_eq!(c.user_id, r.user_id(ANN).await.to_string());
}

fn refusal(user: uuid::Uuid, reason: RefusalReason, suggested: &str) -> LinkupRequestRefused {
    LinkupRequestRefused {
        request_key: format!("key-{}", reason.as_str_name()),
        initiator_user_id: user.to_string(),
        reason: reason.into(),
        suggested_time_window: suggested.to_owned(),
        ..LinkupRequestRefused::default()
    }
}

#[tokio::test]
async fn the_matchers_refusals_are_explained_to_the_initiator() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    let ann = r.user_id(ANN).await;
    let sent = r
        .react(refusal(ann, RefusalReason::TooSoon, "SUN_MORNING"))
        .await;
    assert_eq!(sent[0].text, copy::linkup_too_soon_retry("Sun morning"));
    let sent = r.react(refusal(ann, RefusalReason::SafetyHold, "")).await;
    assert_eq!(sent[0].text, copy::LINKUP_ON_HOLD);
    let sent = r.react(refusal(ann, RefusalReason::Subscription, "")).await;
    assert!(
        sent[0].text.starts_with("LinkUps are for members"),
        "{}",
        sent[0].text
    );
    assert!(sent[0].text.contains(&r.stripe.base_url()));
}

#[tokio::test]
async fn three_no_shows_put_a_soft_hold_on_matching() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    let ann = r.user_id(ANN).await;
    for n in 0..3 {
        r.react(NoShowRecorded {
            linkup_id: uuid::Uuid::new_v4().to_string(),
            user_id: ann.to_string(),
            ..NoShowRecorded::default()
        })
        .await;
        let strikes: i64 =
            sqlx::query_scalar("select count(*) from user_strikes where strike_type = 'no_show'")
                .fetch_one(&r.db.pool)
                .await
                .unwrap();
        assert_eq!(strikes, n + 1);
    }
    let hold = r.scalar_text("select state::text from safety_holds").await;
    assert_eq!(hold.as_deref(), Some("soft_hold"));
}
