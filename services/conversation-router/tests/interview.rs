//! The interview's opening steps as transcripts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;

const PHONE: &str = "+15555550133";

#[tokio::test]
async fn activities_then_the_top_pick() {
    let r = Router::new().await;
    r.register(PHONE, "Dee", "94110").await;
    assert_eq!(
        r.text(PHONE, "COFFEE and hiking... maybe board games?")
            .await,
        ["Nice! Which is your top pick? 1 Board games, 2 Coffee, 3 Hike"]
    );
    let patterns: serde_json::Value = sqlx::query_scalar("select activity_patterns from profiles")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    let keys: Vec<&str> = patterns
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["activity_key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["board_games", "coffee", "hike"]);
    assert!(
        patterns
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["confidence"] == 0.65)
    );
    assert_eq!(
        r.scalar_text("select state::text from profiles")
            .await
            .as_deref(),
        Some("partial")
    );

    assert_eq!(r.text(PHONE, "two").await, [copy::MENU]);
    let intent = r
        .scalar_text("select active_intent ->> 'activity_key' from profiles")
        .await;
    assert_eq!(intent.as_deref(), Some("coffee"));
    let step = r
        .scalar_text("select state_token from conversation_sessions")
        .await;
    assert_eq!(step.as_deref(), Some("interview:motive_01"));
    let audits: i64 = sqlx::query_scalar("select count(*) from profile_events")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(audits, 2);
    let updates = r
        .events()
        .await
        .iter()
        .filter(|e| *e == "identity.profile_updated")
        .count();
    assert_eq!(updates, 2);
}

#[tokio::test]
async fn no_catalog_activity_gets_the_short_list_and_numbers_work() {
    let r = Router::new().await;
    r.register(PHONE, "Eli", "94110").await;
    assert_eq!(r.text(PHONE, "hmm, not sure").await, [copy::ACTIVITY_LIST]);
    assert_eq!(
        r.text(PHONE, "1, 5").await,
        ["Nice! Which is your top pick? 1 Coffee, 2 Board games"]
    );
    assert_eq!(
        r.text(PHONE, "board games").await,
        [copy::MENU],
        "naming the pick works too"
    );
    let intent = r
        .scalar_text("select active_intent ->> 'activity_key' from profiles")
        .await;
    assert_eq!(intent.as_deref(), Some("board_games"));
}

#[tokio::test]
async fn later_pauses_and_the_next_text_resumes_the_same_question() {
    let r = Router::new().await;
    r.register(PHONE, "Flo", "94110").await;
    assert_eq!(r.text(PHONE, "not now").await, [copy::NO_RUSH]);
    r.clock.advance(time::Duration::days(3));
    assert_eq!(
        r.text(PHONE, "trivia and a walk").await,
        ["Nice! Which is your top pick? 1 Trivia, 2 Walk"]
    );
}

#[tokio::test]
async fn a_redelivered_answer_changes_nothing_twice() {
    let r = Router::new().await;
    r.register(PHONE, "Gus", "94110").await;
    let env = r.envelope(PHONE, "coffee, brunch");
    assert_eq!(r.deliver(&env).await.len(), 1);
    assert!(r.deliver(&env).await.is_empty());
    let audits: i64 = sqlx::query_scalar("select count(*) from profile_events")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(audits, 1);
}
