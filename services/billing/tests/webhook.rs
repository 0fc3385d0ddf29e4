//! `POST /v1/stripe/webhook`: Stripe's signature scheme checked against headers made by an
//! independent HMAC implementation; events stored once and acknowledged whatever their type.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use axum::http::StatusCode;
use common::{Billing, DAY, SECRET, Sub, T0, sign};
use serde_json::json;

fn body() -> Vec<u8> {
    serde_json::to_vec(&common::fixture("invoice.paid")).unwrap()
}

#[tokio::test]
async fn a_correctly_signed_event_is_stored_once_even_when_delivered_twice() {
    let b = Billing::new().await;
    let body = body();
    let header = format!("t={T0},v1={}", sign(SECRET, T0, &body));
    assert_eq!(b.post_raw(&body, Some(&header)).await, StatusCode::OK);
    assert_eq!(b.post_raw(&body, Some(&header)).await, StatusCode::OK);
    let stored = b
        .count("select count(*) from stripe_events where stripe_event_id = 'evt_1Pgc76B7WZ01zgkWinvPai01'")
        .await;
    let all = b.count("select count(*) from stripe_events").await;
    assert_eq!((stored, all), (1, 1));
}

#[tokio::test]
async fn a_rotated_secret_is_accepted_through_any_of_several_v1_values() {
    let b = Billing::new().await;
    let body = body();
    let old = sign("whsec_old_secret", T0, &body);
    let new = sign(SECRET, T0, &body);
    for header in [
        format!("t={T0},v1={old},v1={new}"),
        format!("t={T0},v1={new},v1={old},v0=deadbeef"),
    ] {
        assert_eq!(
            b.post_raw(&body, Some(&header)).await,
            StatusCode::OK,
            "{header}"
        );
    }
    let only_old = format!("t={T0},v1={old}");
    assert_eq!(
        b.post_raw(&body, Some(&only_old)).await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn timestamps_beyond_300_seconds_either_way_are_refused() {
    let b = Billing::new().await;
    let body = body();
    let signed = |t: i64| format!("t={t},v1={}", sign(SECRET, t, &body));
    assert_eq!(
        b.post_raw(&body, Some(&signed(T0 - 301))).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.post_raw(&body, Some(&signed(T0 + 301))).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(b.count("select count(*) from stripe_events").await, 0);
    assert_eq!(
        b.post_raw(&body, Some(&signed(T0 - 299))).await,
        StatusCode::OK
    );
    assert_eq!(
        b.post_raw(&body, Some(&signed(T0 + 299))).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn bad_signatures_missing_headers_and_malformed_json_are_400_and_store_nothing() {
    let b = Billing::new().await;
    let body = body();
    let good = sign(SECRET, T0, &body);
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(b.post_raw(&body, None).await, StatusCode::BAD_REQUEST);
    assert_eq!(
        b.post_raw(&body, Some("garbage")).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.post_raw(&body, Some(&format!("v1={good}"))).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        b.post_raw(&tampered, Some(&format!("t={T0},v1={good}")))
            .await,
        StatusCode::BAD_REQUEST
    );
    for junk in [&b"{not json"[..], b"[1,2,3]", b"{\"id\":\"evt_1\"}"] {
        let header = format!("t={T0},v1={}", sign(SECRET, T0, junk));
        assert_eq!(
            b.post_raw(junk, Some(&header)).await,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(b.count("select count(*) from stripe_events").await, 0);
}

#[tokio::test]
async fn unknown_event_types_are_stored_acknowledged_and_marked_processed() {
    let b = Billing::new().await;
    let event = json!({
        "id": "evt_unknown1", "object": "event", "created": T0, "type": "payout.paid",
        "data": { "object": { "id": "po_1", "object": "payout" } }
    });
    b.deliver(&event).await;
    let processed = b
        .count("select count(*) from stripe_events where event_type = 'payout.paid' and processed_at is not null and processing_error is null")
        .await;
    assert_eq!(processed, 1);
}

#[tokio::test]
async fn a_failing_event_keeps_its_error_and_succeeds_when_retried() {
    let b = Billing::new().await;
    let user = b.user("+14155550101").await;
    let sub = Sub::new(user, 1);
    // No metadata and no linked customer: billing cannot tell whose subscription this is yet.
    let mut event = sub.event("evt_orphan", "created", T0, "active");
    event["data"]["object"]["metadata"] = json!({});
    b.deliver(&event).await;
    let error: Option<String> = sqlx::query_scalar(
        "select processing_error from stripe_events where stripe_event_id = 'evt_orphan' and processed_at is null",
    )
    .fetch_one(&b.db.pool)
    .await
    .unwrap();
    assert!(
        error.unwrap().contains("cus_test1"),
        "the error names the customer"
    );
    assert!(b.entitlement(user).await.is_none());

    // The checkout arrives (linking the customer); ops retry the failed event.
    b.deliver(&sub.checkout("evt_checkout", T0 + 1)).await;
    assert_eq!(
        b.processor.retry_failed(Some("evt_orphan")).await.unwrap(),
        1
    );
    let pending = b
        .count("select count(*) from stripe_events where processed_at is null or processing_error is not null")
        .await;
    assert_eq!(pending, 0);
    assert_eq!(b.state(user).await, "active");
}

#[tokio::test]
async fn an_event_failing_while_stripe_is_down_is_marked_transient_and_retried() {
    let stripe = common::StripeReads::default();
    let b = Billing::refetching(&stripe.serve().await).await;
    let user = b.user("+14155550112").await;
    let sub = Sub::new(user, 12);
    stripe.set_down(true);
    b.deliver(&sub.event("evt_down", "created", T0, "trialing"))
        .await;
    let error: String = sqlx::query_scalar(
        "select processing_error from stripe_events where stripe_event_id = 'evt_down'",
    )
    .fetch_one(&b.db.pool)
    .await
    .unwrap();
    assert!(error.starts_with(billing::process::TRANSIENT), "{error}");

    // Stripe is back (and the subscription has moved on): the retry applies what Stripe has now.
    stripe.set_down(false);
    let mut now = sub.event("evt_unused", "updated", T0 + DAY, "active");
    stripe.put(&sub.id, now["data"]["object"].take());
    assert_eq!(b.processor.retry_transient().await.unwrap(), 1);
    assert_eq!(b.state(user).await, "active");
    let left = b
        .count("select count(*) from stripe_events where processed_at is null")
        .await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_checkout_for_a_user_that_does_not_exist_fails_for_good_not_transiently() {
    let b = Billing::new().await;
    let ghost = Sub::new(uuid::Uuid::new_v4(), 14);
    b.deliver(&ghost.checkout("evt_ghost", T0)).await;
    let error: String = sqlx::query_scalar(
        "select processing_error from stripe_events where stripe_event_id = 'evt_ghost'",
    )
    .fetch_one(&b.db.pool)
    .await
    .unwrap();
    assert!(!error.starts_with(billing::process::TRANSIENT), "{error}");
    assert_eq!(b.processor.retry_transient().await.unwrap(), 0);
}

/// With the stack on simulated time (`JOSH_CLOCK=simulated`), the business clock runs days
/// ahead while Stripe keeps signing with wall time: the tolerance follows the signature clock.
#[tokio::test]
async fn the_signature_tolerance_reads_the_signature_clock_not_simulated_time() {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use billing::webhook::{self, WebhookState};
    use platform::clock::ManualClock;
    use tower::ServiceExt as _;

    let b = Billing::new().await;
    let router = webhook::router(WebhookState {
        pool: b.pool.clone(),
        secret: SECRET.to_owned().into(),
        clock: Arc::new(ManualClock::at(common::at(T0 + 3 * DAY))),
        signature_clock: Arc::new(ManualClock::at(common::at(T0))),
        wake: Arc::default(),
    });
    let body = body();
    let post = |t: i64| {
        let request = Request::post(webhook::PATH)
            .header("content-type", "application/json")
            .header(
                "Stripe-Signature",
                format!("t={t},v1={}", sign(SECRET, t, &body)),
            )
            .body(Body::from(body.clone()))
            .unwrap();
        router.clone().oneshot(request)
    };
    assert_eq!(
        post(T0 + 3 * DAY).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(post(T0).await.unwrap().status(), StatusCode::OK);
    let received: time::OffsetDateTime =
        sqlx::query_scalar("select received_at from stripe_events")
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
    assert_eq!(
        received,
        common::at(T0 + 3 * DAY),
        "stored on the business clock"
    );
}
