//! Asking for a LinkUp by text: free-text requests with one clarifier, the LINKUP dialog, the
//! limits and refusals, and the request the matcher receives.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use proto::Payload;
use time::Duration;
use time::macros::datetime;

const PHONE: &str = "+15555550155";

async fn requests(r: &Router) -> Vec<proto::v1::LinkupRequested> {
    r.published("linkup.requested")
        .await
        .into_iter()
        .map(|p| match p {
            Payload::LinkupRequested(req) => req,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn coffee_sat_morning_is_a_request_and_a_repeat_is_the_same_one() {
    let r = Router::new().await; // Sunday 2026-11-22 10:00 in San Francisco
    r.onboard(PHONE, "Ann").await;
    assert_eq!(
        r.text(PHONE, "coffee sat morning?").await,
        [copy::linkup_on_it("coffee", "Sat morning")]
    );
    let sent = requests(&r).await;
    assert_eq!(sent.len(), 1);
    let brief = sent[0].brief.clone().unwrap();
    assert_eq!(brief.activity_key, "coffee");
    assert_eq!(brief.time_window, "SAT_MORNING");
    assert_eq!(
        (brief.min_size, brief.max_size),
        (4, 6),
        "the profile's group size"
    );
    let starts = proto::timestamp::from_timestamp(&brief.window_starts_at.unwrap()).unwrap();
    assert_eq!(starts, datetime!(2026-11-28 17:00 UTC), "09:00 Pacific");
    assert_eq!(sent[0].request_key.len(), 64);

    r.clock.advance(Duration::minutes(5));
    assert_eq!(
        r.text(PHONE, "Coffee Saturday morning").await,
        [copy::linkup_already("coffee", "Sat morning")]
    );
    assert_eq!(requests(&r).await.len(), 1, "the same create key asks once");
}

#[tokio::test]
async fn one_clarifier_for_the_missing_time_and_never_a_second() {
    let r = Router::new().await;
    r.onboard(PHONE, "Bea").await;
    assert_eq!(r.text(PHONE, "coffee?").await, [copy::ASK_LINKUP_DAY]);
    assert_eq!(
        r.text(PHONE, "blue").await,
        [copy::LINKUP_NOT_CLEAR],
        "no second clarifier in a row"
    );
    assert_eq!(
        r.text(PHONE, "anyone up for a hike").await,
        [copy::ASK_LINKUP_DAY]
    );
    assert_eq!(
        r.text(PHONE, "d").await,
        [copy::ASK_LINKUP_PART],
        "Sunday named; the part is still missing"
    );
    assert_eq!(
        r.text(PHONE, "morning").await,
        [copy::linkup_on_it("hike", "Sun morning")]
    );
    assert!(requests(&r).await.len() == 1);
}

#[tokio::test]
async fn the_linkup_command_walks_through_activity_time_and_size() {
    let r = Router::new().await;
    r.onboard(PHONE, "Cal").await;
    assert_eq!(
        r.text(PHONE, "LINKUP").await,
        [copy::ask_linkup_activity(&[
            "Coffee".to_owned(),
            "Brunch".to_owned(),
            "Walk".to_owned()
        ])]
    );
    assert_eq!(r.text(PHONE, "b").await, [copy::ASK_LINKUP_DAY]);
    assert_eq!(
        r.text(PHONE, "this weekend").await,
        [copy::ASK_LINKUP_WEEKEND_DAY]
    );
    assert_eq!(r.text(PHONE, "sat").await, [copy::ASK_LINKUP_PART]);
    assert_eq!(r.text(PHONE, "c").await, [copy::ASK_LINKUP_SIZE]);
    assert_eq!(
        r.text(PHONE, "maybe").await,
        [copy::again(copy::ASK_LINKUP_SIZE)]
    );
    assert_eq!(
        r.text(PHONE, "A").await,
        [copy::linkup_on_it("brunch", "Sat evening")]
    );
    let brief = requests(&r).await[0].brief.clone().unwrap();
    assert_eq!((brief.min_size, brief.max_size), (2, 3));
    assert_eq!(brief.time_window, "SAT_EVENING");
}

#[tokio::test]
async fn an_unanswered_clarifier_expires_after_15_minutes() {
    let r = Router::new().await;
    r.onboard(PHONE, "Dot").await;
    assert_eq!(r.text(PHONE, "brunch").await, [copy::ASK_LINKUP_DAY]);
    r.clock.advance(Duration::minutes(16));
    // A fresh text: it names a time but no activity, so JOSH asks for the activity.
    let replies = r.text(PHONE, "sat morning").await;
    assert!(
        replies[0].starts_with("What would you like to do?"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn too_soon_offers_a_later_time_and_yes_takes_it() {
    let r = Router::new().await;
    r.onboard(PHONE, "Eve").await;
    // Sunday 10:04 in San Francisco: this afternoon starts in under 5 hours.
    assert_eq!(
        r.text(PHONE, "walk this afternoon today").await,
        [copy::linkup_too_soon("Sun evening")]
    );
    assert_eq!(
        r.text(PHONE, "yes").await,
        [copy::linkup_on_it("walk", "Sun evening")]
    );
}

#[tokio::test]
async fn three_requests_a_day_at_most() {
    let r = Router::new().await;
    r.onboard(PHONE, "Fay").await;
    for text in [
        "coffee sat morning",
        "brunch sun morning",
        "walk tue evening",
    ] {
        r.clock.advance(Duration::minutes(1));
        let replies = r.text(PHONE, text).await;
        assert!(replies[0].starts_with("On it!"), "{replies:?}");
    }
    r.clock.advance(Duration::minutes(1));
    assert_eq!(
        r.text(PHONE, "trivia wed evening").await,
        [copy::LINKUP_DAILY_LIMIT]
    );
    r.clock.advance(Duration::days(1));
    let replies = r.text(PHONE, "trivia thu evening").await;
    assert!(replies[0].starts_with("On it!"), "{replies:?}");
    assert_eq!(requests(&r).await.len(), 4);
}

#[tokio::test]
async fn waitlisted_and_unfinished_profiles_cannot_start_one() {
    let r = Router::new().await;
    r.register(PHONE, "Gia", "94606").await; // Oakland: waitlisted
    assert_eq!(
        r.text(PHONE, "coffee sat morning").await,
        [copy::linkup_region_closed("Oakland")]
    );
    let other = "+15555550166";
    r.register(other, "Hap", "94110").await;
    r.text(other, "coffee, walk, brunch").await;
    r.text(other, "1").await;
    for _ in 0..8 {
        r.clock.advance(Duration::seconds(20));
        r.text(other, "skip").await;
    }
    r.clock.advance(Duration::minutes(1));
    assert_eq!(
        r.text(other, "coffee sat morning").await,
        [copy::linkup_profile_first(copy::ASK_MOTIVE)]
    );
    assert_eq!(
        r.text(other, "a").await,
        [copy::ASK_STYLE],
        "the interview resumes"
    );
    assert!(requests(&r).await.is_empty());
}

#[tokio::test]
async fn a_non_member_gets_a_checkout_link_from_billing() {
    let r = Router::new().await;
    r.onboard(PHONE, "Ivo").await;
    sqlx::query("delete from entitlements")
        .execute(&r.db.pool)
        .await
        .unwrap();
    let replies = r.text(PHONE, "coffee sat morning").await;
    assert_eq!(replies.len(), 1);
    let url = replies[0].rsplit(' ').next().unwrap();
    assert!(
        replies[0].starts_with("LinkUps are for members") && url.starts_with(&r.stripe.base_url()),
        "{replies:?}"
    );
    assert!(requests(&r).await.is_empty(), "nothing reaches the matcher");
    let customers: i64 = sqlx::query_scalar("select count(*) from stripe_customers")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(customers, 1, "billing created the one customer");
}
