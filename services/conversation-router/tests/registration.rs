//! Registration over SMS, as transcripts: texts in, replies and state out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;

const PHONE: &str = "+15555550100";

#[tokio::test]
async fn an_unknown_number_registers_by_text_and_starts_the_interview() {
    let r = Router::new().await;
    let transcript: &[(&str, &str)] = &[
        (
            "hi",
            "Hi, I'm JOSH! I help people make friends nearby. Want to join? Reply with your first name to start.",
        ),
        (
            "  maria ",
            "Nice to meet you, Maria! What's your last name?",
        ),
        ("Lopez", "What's your birthday? (like 5/17/1990)"),
        (
            "May 17, 1990",
            "What's your ZIP code? It tells me which city you're in.",
        ),
        (
            "94110",
            "Last step: reply AGREE to confirm you're 18+, agree to texts from JOSH, the terms (https://josh.example/terms) and privacy policy (https://josh.example/privacy).",
        ),
    ];
    for (text, expected) in transcript {
        assert_eq!(r.text(PHONE, text).await, [*expected], "after {text:?}");
    }
    assert_eq!(
        r.text(PHONE, "agree").await,
        [
            "Hi Maria, welcome to JOSH! I help you meet people nearby in small groups. A few quick questions first.",
            copy::LINKUPS_EXPLAINED,
            copy::ASK_ACTIVITIES,
        ],
        "the opening, what a LinkUp is, then the first question"
    );

    let row: (String, String, String, bool, bool, bool, bool, bool) = sqlx::query_as(
        "select first_name, last_name, state::text, sms_consent, age_consent, terms_consent,
                privacy_consent, sms_consent_at is not null and privacy_consent_at is not null
         from users where phone_e164 = $1",
    )
    .bind(PHONE)
    .fetch_one(&r.db.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "Maria".into(),
            "Lopez".into(),
            "interviewing".into(),
            true,
            true,
            true,
            true,
            true
        )
    );
    let membership = r.scalar_text("select status from region_memberships").await;
    assert_eq!(membership.as_deref(), Some("active"));
    let session = r
        .scalar_text("select mode::text || ' ' || state_token from conversation_sessions")
        .await;
    assert_eq!(
        session.as_deref(),
        Some("interviewing interview:activity_01")
    );
    assert_eq!(
        r.scalar_text("select state::text from profiles")
            .await
            .as_deref(),
        Some("empty")
    );
    assert_eq!(
        r.events().await,
        ["identity.user_registered", "identity.user_verified"]
    );
    let done = r
        .scalar_text("select (completed_at is not null)::text from sms_registrations")
        .await;
    assert_eq!(done.as_deref(), Some("true"));
}

#[tokio::test]
async fn a_waitlisted_zip_puts_them_on_the_list() {
    let r = Router::new().await;
    let last = r.register(PHONE, "Sam", "94606").await;
    assert_eq!(
        last,
        ["You're on the list for Oakland! JOSH isn't live there yet. I'll text you when we open."]
    );
    assert_eq!(
        r.scalar_text("select state::text from users")
            .await
            .as_deref(),
        Some("verified")
    );
    assert_eq!(
        r.scalar_text("select status from region_memberships")
            .await
            .as_deref(),
        Some("waitlisted")
    );
}

#[tokio::test]
async fn odd_answers_are_asked_again_and_under_18_is_a_clear_no() {
    let r = Router::new().await;
    r.text(PHONE, "hello?").await;
    assert_eq!(
        r.text(PHONE, "12345").await,
        ["Sorry, I didn't catch that. What name should I use?"]
    );
    assert_eq!(
        r.text(PHONE, &"x".repeat(2000)).await,
        ["Sorry, I didn't catch that. What name should I use?"]
    );
    r.text(PHONE, "ZOË").await;
    r.text(PHONE, "O'Neil").await;
    assert_eq!(
        r.text(PHONE, "yesterday").await,
        ["Hmm, I couldn't read that date. Try like 5/17/1990."]
    );
    assert_eq!(
        r.text(PHONE, "11/23/2008").await,
        ["Sorry, JOSH is for adults 18 and over, so I can't sign you up."],
        "17 years old on 2026-11-22"
    );
    let left: i64 = sqlx::query_scalar("select count(*) from sms_registrations")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "an under-18 registration is not kept");
    assert_eq!(
        r.text(PHONE, "hi again").await.len(),
        1,
        "a new text starts over"
    );
}

#[tokio::test]
async fn a_bad_zip_and_a_missing_agree_are_asked_again() {
    let r = Router::new().await;
    for text in ["hi", "Ana", "Diaz", "1990-01-02"] {
        r.text(PHONE, text).await;
    }
    assert_eq!(
        r.text(PHONE, "941").await,
        ["That doesn't look like a ZIP code. Please send 5 digits, like 94110."]
    );
    r.text(PHONE, "94103").await;
    let again = r.text(PHONE, "what terms?").await;
    assert!(again[0].starts_with("Last step: reply AGREE"), "{again:?}");
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 0, "no user before AGREE");
}
