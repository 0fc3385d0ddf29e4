//! Carrier keywords, the opt-out record, rate limits and redelivery.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use proto::v1::SmsPurpose;

const PHONE: &str = "+15555550111";

#[tokio::test]
async fn stop_confirms_once_then_silence_until_start() {
    let r = Router::new().await;
    r.register(PHONE, "Lee", "94110").await;

    let env = r.envelope(PHONE, "STOP");
    let sent = r.deliver(&env).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::OPT_OUT_CONFIRMATION);
    assert_eq!(sent[0].command.purpose(), SmsPurpose::OptOutConfirmation);
    assert!(
        sent[0].command.urgent,
        "the confirmation ignores quiet hours"
    );
    assert_eq!(
        r.scalar_text("select (opted_out_at is not null)::text from users")
            .await
            .as_deref(),
        Some("true")
    );

    assert!(
        r.text(PHONE, "stop").await.is_empty(),
        "no second confirmation"
    );
    assert!(
        r.text(PHONE, "coffee saturday?").await.is_empty(),
        "silence after STOP"
    );
    assert_eq!(
        r.text(PHONE, "help").await,
        [copy::HELP],
        "HELP is always answered"
    );
    assert_eq!(r.text(PHONE, "START").await, [copy::OPT_IN_CONFIRMATION]);
    assert_eq!(
        r.scalar_text("select (opted_out_at is null)::text from users")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(r.text(PHONE, "hi").await, [copy::ACTIVITY_LIST]);
    let events = r.events().await;
    assert!(
        events.ends_with(&[
            "identity.user_opted_out".to_owned(),
            "identity.user_opted_in".to_owned()
        ]),
        "{events:?}"
    );
}

#[tokio::test]
async fn yes_opts_back_in_only_while_opted_out_and_plain_language_opts_out() {
    let r = Router::new().await;
    assert_eq!(
        r.text(PHONE, "please stop texting me").await,
        [copy::OPT_OUT_CONFIRMATION]
    );
    assert_eq!(r.text(PHONE, "YES").await, [copy::OPT_IN_CONFIRMATION]);
    // Now opted in and unregistered: "yes" is just an answer (here: the start of registration).
    assert_eq!(r.text(PHONE, "yes").await, [copy::REGISTER_WELCOME]);
}

#[tokio::test]
async fn an_unknown_number_can_opt_out_before_registering() {
    let r = Router::new().await;
    assert_eq!(
        r.text(PHONE, "unsubscribe").await,
        [copy::OPT_OUT_CONFIRMATION]
    );
    assert!(r.text(PHONE, "hi").await.is_empty());
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn a_redelivered_text_gets_no_second_reply_or_effect() {
    let r = Router::new().await;
    let env = r.envelope(PHONE, "hi");
    assert_eq!(r.deliver(&env).await.len(), 1);
    assert!(r.deliver(&env).await.is_empty(), "redelivery is a no-op");
    let stop = r.envelope(PHONE, "stop");
    assert_eq!(r.deliver(&stop).await.len(), 1);
    assert!(r.deliver(&stop).await.is_empty());
    assert_eq!(r.events().await, ["identity.user_opted_out"]);
}

#[tokio::test]
async fn more_than_ten_texts_a_minute_get_one_slow_down() {
    let r = Router::new().await;
    r.register(PHONE, "Kai", "94110").await; // six texts
    for _ in 0..4 {
        assert_eq!(r.text(PHONE, "hello").await, [copy::ACTIVITY_LIST]);
    }
    assert_eq!(
        r.text(PHONE, "hello").await,
        [copy::SLOW_DOWN],
        "the 11th text"
    );
    assert!(
        r.text(PHONE, "hello").await.is_empty(),
        "one warning per window"
    );
    r.clock.advance(time::Duration::seconds(61));
    assert_eq!(
        r.text(PHONE, "hello").await,
        [copy::ACTIVITY_LIST],
        "a new window"
    );
}

#[tokio::test]
async fn carrier_commands_and_ignored_texts_do_not_count_towards_the_rate_limit() {
    let r = Router::new().await;
    r.register(PHONE, "Kai", "94110").await; // six texts
    assert_eq!(r.text(PHONE, "STOP").await, [copy::OPT_OUT_CONFIRMATION]);
    for _ in 0..5 {
        assert!(r.text(PHONE, "hello").await.is_empty(), "opted out");
    }
    assert_eq!(r.text(PHONE, "yes").await, [copy::OPT_IN_CONFIRMATION]);
    assert_eq!(r.text(PHONE, "help").await, [copy::HELP]);
    for _ in 0..4 {
        assert_eq!(r.text(PHONE, "hello").await, [copy::ACTIVITY_LIST]);
    }
    assert_eq!(
        r.text(PHONE, "hello").await,
        [copy::SLOW_DOWN],
        "the 11th counted text"
    );
}

#[tokio::test]
async fn replies_to_a_text_go_out_even_in_quiet_hours() {
    let r = Router::new().await;
    let sent = r.deliver(&r.envelope(PHONE, "hi")).await;
    assert_eq!(sent[0].command.purpose(), SmsPurpose::Reply);
    assert!(
        sent[0].command.urgent,
        "a reply answers the person now, whatever the hour"
    );
}

#[tokio::test]
async fn no_plaintext_reply_is_stored() {
    let r = Router::new().await;
    r.text(PHONE, "hi").await;
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar("select payload from event_outbox")
        .fetch_all(&r.db.pool)
        .await
        .unwrap();
    let needle = b"I help people make friends";
    for p in payloads {
        assert!(
            !p.windows(needle.len()).any(|w| w == needle),
            "plaintext in the outbox"
        );
    }
}

#[tokio::test]
async fn a_text_that_was_dead_lettered_gets_one_apology_and_stays_replayable() {
    let r = Router::new().await;
    let envelope = r.envelope("+15555550199", "hello?");
    let sent = r.dead_letter(&envelope).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::SYSTEM_ERROR);
    assert!(sent[0].command.urgent, "it answers their own text");
    // A replay from the dead-letter subject is then handled for real.
    assert_eq!(
        r.deliver(&envelope)
            .await
            .iter()
            .map(|s| s.text.clone())
            .collect::<Vec<_>>(),
        [copy::REGISTER_WELCOME]
    );
}

#[tokio::test]
async fn stop_mid_interview_silences_every_text_until_start_resumes_it() {
    let r = Router::new().await;
    r.register(PHONE, "Max", "94110").await;
    r.text(PHONE, "coffee, walk, brunch").await;
    assert_eq!(r.text(PHONE, "STOP").await, [copy::OPT_OUT_CONFIRMATION]);
    // Other services' facts would have the router text them: nothing goes out.
    let linkup = r.linkup(PHONE, "coffee", "SAT_MORNING").await;
    let me = r.user_id(PHONE).await;
    let sent = r
        .react(proto::v1::LinkupCompleted {
            linkup_id: linkup.to_string(),
            participant_user_ids: vec![me.to_string()],
            ..Default::default()
        })
        .await;
    assert!(sent.is_empty(), "{sent:?}");
    r.clock.advance(time::Duration::days(2));
    let nudged = conversation_router::interview::nudge::run_once(&r.pool, &r.ctx)
        .await
        .unwrap();
    assert_eq!(nudged, 0);
    assert!(r.new_replies().await.is_empty());
    assert_eq!(r.text(PHONE, "START").await, [copy::OPT_IN_CONFIRMATION]);
    let next = r.text(PHONE, "1").await;
    assert_eq!(next.len(), 1);
    assert!(
        next[0].contains("Which is your top pick?") || next[0].starts_with("Welcome back"),
        "{next:?}"
    );
}
