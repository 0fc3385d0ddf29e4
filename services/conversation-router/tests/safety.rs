//! Safety phrases: each tier's effect, and the crisis reply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use proto::v1::SmsPurpose;

const PHONE: &str = "+15555550122";

async fn hold(r: &Router) -> Option<String> {
    r.scalar_text("select state::text from safety_holds").await
}

#[tokio::test]
async fn crisis_gets_the_crisis_reply_a_critical_incident_and_a_soft_hold() {
    let r = Router::new().await;
    r.register(PHONE, "Jo", "94110").await;
    let sent = r
        .deliver(&r.envelope(PHONE, "honestly I want to die"))
        .await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::CRISIS);
    assert_eq!(sent[0].command.purpose(), SmsPurpose::Safety);
    assert!(sent[0].command.urgent);
    let incident = r
        .scalar_text("select incident_type || ' ' || severity from safety_incidents")
        .await;
    assert_eq!(incident.as_deref(), Some("crisis 4"));
    assert_eq!(hold(&r).await.as_deref(), Some("soft_hold"));
    let events = r.events().await;
    assert!(
        events.contains(&"safety.incident_opened".to_owned())
            && events.contains(&"safety.hold_changed".to_owned()),
        "{events:?}"
    );
    // They can always still text JOSH.
    assert_eq!(r.text(PHONE, "hi").await, [copy::ACTIVITY_LIST]);
}

#[tokio::test]
async fn an_unregistered_sender_in_crisis_still_gets_the_reply() {
    let r = Router::new().await;
    assert_eq!(r.text(PHONE, "I want to end my life").await, [copy::CRISIS]);
    assert_eq!(
        r.scalar_text("select incident_type from safety_incidents")
            .await
            .as_deref(),
        Some("crisis")
    );
}

#[tokio::test]
async fn a_threat_puts_the_account_on_hard_hold() {
    let r = Router::new().await;
    r.register(PHONE, "Max", "94110").await;
    assert_eq!(
        r.text(PHONE, "I know where you live").await,
        [copy::ACCOUNT_PAUSED]
    );
    assert_eq!(hold(&r).await.as_deref(), Some("hard_hold"));
    assert_eq!(r.text(PHONE, "coffee?").await, [copy::ACCOUNT_PAUSED]);
    assert_eq!(r.text(PHONE, "PROFILE").await, [copy::ACCOUNT_PAUSED]);
    assert_eq!(r.text(PHONE, "HELP").await, [copy::HELP]);
    assert_eq!(
        r.text(PHONE, "report").await,
        [copy::NOBODY_TO_PICK],
        "REPORT still works on a hard hold"
    );
}

#[tokio::test]
async fn medium_language_warns_and_the_third_strike_soft_holds() {
    let r = Router::new().await;
    r.register(PHONE, "Ari", "94110").await;
    for n in 1..=3 {
        assert_eq!(
            r.text(PHONE, "you're worthless").await,
            [copy::SAFETY_WARNING],
            "strike {n}"
        );
    }
    let strikes: i64 = sqlx::query_scalar("select count(*) from user_strikes")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(strikes, 3);
    assert_eq!(hold(&r).await.as_deref(), Some("soft_hold"));
    r.text(PHONE, "I hate you").await;
    assert_eq!(hold(&r).await.as_deref(), Some("hard_hold"), "4+ strikes");
}

#[tokio::test]
async fn low_tier_language_is_only_logged() {
    let r = Router::new().await;
    r.register(PHONE, "Bo", "94110").await;
    assert!(r.text(PHONE, "this is stupid").await.is_empty());
    let incidents: i64 = sqlx::query_scalar("select count(*) from safety_incidents")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(incidents, 0);
    assert_eq!(hold(&r).await, None);
}
