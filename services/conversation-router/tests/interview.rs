//! The interview as transcripts: every step, odd answers, skips, resume after a gap, the dropout
//! nudge, and completion.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use conversation_router::interview::nudge;
use time::Duration;

const PHONE: &str = "+15555550133";

async fn count(r: &Router, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&r.db.pool)
        .await
        .unwrap()
}

async fn factor(r: &Router, name: &str) -> (f64, f64) {
    let fp: serde_json::Value = sqlx::query_scalar("select fingerprint from profiles")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    let f = &fp[name];
    (
        f["range_value"].as_f64().unwrap(),
        f["confidence"].as_f64().unwrap(),
    )
}

#[tokio::test]
async fn the_whole_interview_with_odd_answers_reaches_complete_mvp() {
    let r = Router::new().await;
    r.register(PHONE, "Ada", "94110").await;
    let long = "la ".repeat(700);
    let transcript: &[(&str, &str)] = &[
        (
            "COFFEE, hikking?? and BOARD GAMES!!",
            copy::ASK_MORE_ACTIVITIES,
        ),
        (
            "3",
            "Nice! Which is your top pick? 1 Board games, 2 Coffee, 3 Hike",
        ),
        ("", ""),
        ("two", copy::ASK_MOTIVE),
        ("A and C", copy::ASK_STYLE),
        (&long, ""),
        ("¿Cuál? No entiendo 🤔", ""),
        ("b", copy::ASK_TOPICS),
        ("ideas & stories", copy::ASK_PACE),
        ("rather not", copy::ASK_GROUP),
        ("TWO", copy::ASK_VALUES),
        ("option a", copy::ASK_BOUNDARIES),
        ("bars and late nights please", copy::ASK_TIMES),
        ("Weekends", copy::INTERVIEW_DONE),
    ];
    let mut last_question = String::new();
    for (text, expected) in transcript {
        r.clock.advance(Duration::seconds(20)); // under the per-minute rate limit
        let replies = r.text(PHONE, text).await;
        assert_eq!(replies.len(), 1, "{text:?} → {replies:?}");
        if expected.is_empty() {
            // Unreadable: the same question again, prefixed, never an error.
            assert_eq!(replies[0], copy::again(&last_question), "{text:?}");
        } else {
            assert_eq!(replies[0], *expected, "{text:?}");
            last_question = replies[0].clone();
        }
    }
    // "hikking" is a typo no alias matches; the short list filled the third activity.
    let state = r.scalar_text("select state::text from profiles").await;
    assert_eq!(state.as_deref(), Some("complete_mvp"));
    let user = r.scalar_text("select state::text from users").await;
    assert_eq!(user.as_deref(), Some("active"));
    let mode = r
        .scalar_text("select mode::text || ' ' || state_token from conversation_sessions")
        .await;
    assert_eq!(mode.as_deref(), Some("idle idle"));
    assert_eq!(
        count(
            &r,
            "select count(*) from profiles where completed_at is not null"
        )
        .await,
        1
    );
    // A deep talk + recharge: connection and restorative chosen (0.8), the rest 0.3.
    assert_eq!(factor(&r, "connection_depth").await, (0.8, 0.7));
    assert_eq!(factor(&r, "emotional_directness").await, (0.8, 0.6));
    assert_eq!(factor(&r, "social_energy").await, (0.72, 0.7));
    assert_eq!(factor(&r, "conflict_tolerance").await, (0.7, 0.6));
    let skipped: Option<serde_json::Value> =
        sqlx::query_scalar("select fingerprint -> 'social_pace' from profiles")
            .fetch_one(&r.db.pool)
            .await
            .unwrap();
    assert_eq!(skipped, None, "a refusal changes nothing");
    let prefs = r
        .scalar_text("select preferences::text from profiles")
        .await
        .unwrap();
    assert!(
        prefs.contains(r#""group_size_pref": {"max": 6, "min": 4}"#),
        "{prefs}"
    );
    assert!(
        prefs.contains(r#""time_preferences": ["weekend"]"#),
        "{prefs}"
    );
    let no_thanks = r
        .scalar_text("select boundaries -> 'no_thanks' ->> 0 || ',' || (boundaries -> 'no_thanks' ->> 1) from profiles")
        .await;
    assert_eq!(no_thanks.as_deref(), Some("bars,late_night"));
    // Ten answers were applied; each has one audit row and one `profile updated`.
    assert_eq!(count(&r, "select count(*) from profile_events").await, 10);
    let updates = r
        .events()
        .await
        .iter()
        .filter(|e| *e == "identity.profile_updated")
        .count();
    assert_eq!(updates, 10);
    // Done: the next text gets the menu, not another question.
    assert_eq!(r.text(PHONE, "hello?").await, [copy::MENU]);
}

#[tokio::test]
async fn skipping_too_much_ends_without_matching_yet() {
    let r = Router::new().await;
    r.register(PHONE, "Bo", "94110").await;
    r.text(PHONE, "coffee, walk, trivia").await;
    r.text(PHONE, "1").await;
    for _ in 0..7 {
        r.clock.advance(Duration::seconds(20)); // under the per-minute rate limit
        r.text(PHONE, "skip").await;
    }
    r.clock.advance(Duration::seconds(20));
    assert_eq!(r.text(PHONE, "skip").await, [copy::INTERVIEW_INCOMPLETE]);
    let user = r.scalar_text("select state::text from users").await;
    assert_eq!(user.as_deref(), Some("interviewing"));
    let state = r.scalar_text("select state::text from profiles").await;
    assert_eq!(state.as_deref(), Some("partial"));
}

#[tokio::test]
async fn no_catalog_activity_gets_the_short_list_and_numbers_work() {
    let r = Router::new().await;
    r.register(PHONE, "Eli", "94110").await;
    assert_eq!(r.text(PHONE, "hmm, not sure").await, [copy::ACTIVITY_LIST]);
    assert_eq!(r.text(PHONE, "1, 5").await, [copy::ASK_MORE_ACTIVITIES]);
    assert_eq!(
        r.text(PHONE, "six").await,
        ["Nice! Which is your top pick? 1 Coffee, 2 Board games, 3 Trivia"]
    );
    assert_eq!(
        r.text(PHONE, "board games").await,
        [copy::ASK_MOTIVE],
        "naming the pick works too"
    );
    let intent = r
        .scalar_text("select active_intent ->> 'activity_key' from profiles")
        .await;
    assert_eq!(intent.as_deref(), Some("board_games"));
}

#[tokio::test]
async fn later_pauses_and_a_return_after_a_gap_is_welcomed_back() {
    let r = Router::new().await;
    r.register(PHONE, "Flo", "94110").await;
    assert_eq!(r.text(PHONE, "not now").await, [copy::NO_RUSH]);
    r.clock.advance(Duration::days(3));
    assert_eq!(
        r.text(PHONE, "trivia and a walk").await,
        [copy::welcome_back(copy::ASK_MORE_ACTIVITIES)],
        "an answer after a gap still counts"
    );
    r.clock.advance(Duration::days(2));
    assert_eq!(
        r.text(PHONE, "hey, what was I doing?").await,
        [copy::welcome_back(copy::ASK_MORE_ACTIVITIES)],
        "a non-answer after a gap gets the same question"
    );
}

#[tokio::test]
async fn one_dropout_nudge_after_a_day_of_silence_and_none_after_stop() {
    let r = Router::new().await;
    r.register(PHONE, "Gil", "94110").await;
    r.register("+15555550144", "Hal", "94110").await;
    r.text(PHONE, "coffee").await;
    r.clock.advance(Duration::hours(23));
    assert_eq!(nudge::run_once(&r.pool, &r.ctx).await.unwrap(), 0);
    assert!(r.new_replies().await.is_empty());
    r.text("+15555550144", "STOP").await;
    r.clock.advance(Duration::hours(2));
    assert_eq!(nudge::run_once(&r.pool, &r.ctx).await.unwrap(), 1);
    let sent = r.new_replies().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::nudge("Gil"));
    assert_eq!(sent[0].command.to_e164, PHONE);
    assert!(!sent[0].command.urgent, "a nudge waits out quiet hours");
    r.clock.advance(Duration::days(3));
    assert_eq!(
        nudge::run_once(&r.pool, &r.ctx).await.unwrap(),
        0,
        "only one"
    );
    // Coming back re-arms it for the next silence.
    r.text(PHONE, "walk").await;
    r.clock.advance(Duration::hours(25));
    assert_eq!(nudge::run_once(&r.pool, &r.ctx).await.unwrap(), 1);
}

#[tokio::test]
async fn a_redelivered_answer_changes_nothing_twice() {
    let r = Router::new().await;
    r.register(PHONE, "Gus", "94110").await;
    let env = r.envelope(PHONE, "coffee, brunch, trivia");
    assert_eq!(r.deliver(&env).await.len(), 1);
    assert!(r.deliver(&env).await.is_empty());
    assert_eq!(count(&r, "select count(*) from profile_events").await, 1);
}

#[tokio::test]
async fn a_profile_unchanged_for_180_days_goes_stale_with_one_refresh_prompt() {
    let r = Router::new().await;
    r.onboard(PHONE, "Ivy").await;
    r.clock.advance(Duration::days(179));
    let stale = conversation_router::interview::stale::run_once;
    assert_eq!(stale(&r.pool, &r.ctx).await.unwrap(), 0);
    r.clock.advance(Duration::days(2));
    assert_eq!(stale(&r.pool, &r.ctx).await.unwrap(), 1);
    let sent = r.new_replies().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::refresh("Ivy"));
    assert_eq!(stale(&r.pool, &r.ctx).await.unwrap(), 0, "one prompt only");
    let state = r.scalar_text("select state::text from profiles").await;
    assert_eq!(state.as_deref(), Some("stale"));
}
