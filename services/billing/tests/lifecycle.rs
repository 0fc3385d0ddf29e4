//! Each subscription lifecycle, event by event through the webhook: what the member is entitled
//! to, which changes are announced, and what they are told.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use billing::entitlement::Reason;
use billing::reconcile;
use common::{Billing, DAY, StripeReads, Sub, T0, at};
use proto::v1::EntitlementReason as R;

fn reasons(changes: &[proto::v1::EntitlementChanged]) -> Vec<R> {
    changes.iter().map(|c| c.reason()).collect()
}

#[tokio::test]
async fn trial_then_active_then_past_due_with_grace_then_canceled() {
    let b = Billing::new().await;
    let user = b.user("+14155550102").await;
    let sub = Sub::new(user, 2);
    b.deliver(&sub.checkout("evt_a1", T0)).await;
    assert_eq!(b.reason(user).await, Reason::WebhookPending);
    b.deliver(&sub.event("evt_a2", "created", T0 + 1, "trialing"))
        .await;
    assert_eq!(b.reason(user).await, Reason::Subscription);
    assert_eq!(b.state(user).await, "trialing");
    b.deliver(&sub.event("evt_a3", "updated", T0 + 14 * DAY, "active"))
        .await;
    assert_eq!(b.state(user).await, "active");

    let failed_at = T0 + 44 * DAY;
    b.set_time(failed_at);
    b.deliver(&sub.event("evt_a4", "updated", failed_at, "past_due"))
        .await;
    let ent = b.entitlement(user).await.unwrap();
    assert_eq!(ent.reason, Reason::Grace);
    assert_eq!(ent.expires_at, Some(at(failed_at + 7 * DAY)));
    assert!(
        ent.eligible_at(at(failed_at + 7 * DAY - 1)),
        "still eligible until grace_until"
    );
    assert!(!ent.eligible_at(at(failed_at + 7 * DAY)));

    b.set_time(failed_at + 3 * DAY);
    b.deliver(&sub.event("evt_a5", "deleted", failed_at + 3 * DAY, "canceled"))
        .await;
    let ent = b.entitlement(user).await.unwrap();
    assert_eq!(
        (ent.eligible, ent.reason),
        (false, Reason::SubscriptionEnded)
    );
    assert_eq!(b.state(user).await, "canceled");

    let changes = b.changes().await;
    assert_eq!(
        reasons(&changes),
        [
            R::WebhookPending,
            R::Subscription,
            R::Grace,
            R::SubscriptionEnded
        ]
    );
    let grace = &changes[2];
    assert!(grace.was_eligible_to_participate && grace.eligible_to_participate);
    assert_eq!(grace.grace_until.unwrap().seconds, failed_at + 7 * DAY);
    assert!(!changes[3].eligible_to_participate && changes[3].was_eligible_to_participate);
    let texts = b.texts().await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts[0].contains("welcome"));
    assert!(texts[1].contains("payment didn't go through") && texts[1].contains("Sep 15"));
    assert!(texts[2].contains("lapsed"));
    let recorded = b
        .count(
            "select count(*) from domain_events where event_type = 'billing.entitlement_changed'",
        )
        .await;
    assert_eq!(recorded, 4);
}

#[tokio::test]
async fn a_failed_payment_and_its_recovery() {
    let b = Billing::new().await;
    let user = b.user("+14155550103").await;
    let sub = Sub::new(user, 3);
    b.deliver(&sub.event("evt_b1", "created", T0, "active"))
        .await;
    b.deliver(&sub.invoice("evt_b2", "payment_failed", T0 + 30 * DAY))
        .await;
    b.deliver(&sub.event("evt_b3", "updated", T0 + 30 * DAY, "past_due"))
        .await;
    assert_eq!(b.reason(user).await, Reason::Grace);
    b.deliver(&sub.invoice("evt_b4", "paid", T0 + 32 * DAY))
        .await;
    b.deliver(&sub.event("evt_b5", "updated", T0 + 32 * DAY, "active"))
        .await;
    let ent = b.entitlement(user).await.unwrap();
    assert_eq!(
        (ent.eligible, ent.reason, ent.expires_at),
        (true, Reason::Subscription, None)
    );
    assert_eq!(
        reasons(&b.changes().await),
        [R::Subscription, R::Grace, R::Subscription]
    );
    let texts = b.texts().await;
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts[2].contains("payment went through"));
}

#[tokio::test]
async fn checkout_links_the_customer_and_entitles_for_fifteen_minutes() {
    let b = Billing::new().await;
    let user = b.user("+14155550104").await;
    let sub = Sub::new(user, 4);
    b.deliver(&sub.checkout("evt_c1", T0)).await;
    let customer: String =
        sqlx::query_scalar("select stripe_customer_id from stripe_customers where user_id = $1")
            .bind(user)
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
    assert_eq!(customer, "cus_test4");
    let ent = b.entitlement(user).await.unwrap();
    assert!(ent.eligible_at(at(T0 + 14 * 60)));
    assert!(!ent.eligible_at(at(T0 + 15 * 60)));

    // No subscription event came: after the window the job withdraws it.
    b.set_time(T0 + 16 * 60);
    let report = reconcile::pass(&b.processor).await.unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(b.reason(user).await, Reason::NoSubscription);
    assert_eq!(
        reasons(&b.changes().await),
        [R::WebhookPending, R::NoSubscription]
    );
}

#[tokio::test]
async fn a_subscription_event_for_the_linked_customer_needs_no_metadata() {
    let b = Billing::new().await;
    let user = b.user("+14155550105").await;
    let sub = Sub::new(user, 5);
    b.deliver(&sub.checkout("evt_d1", T0)).await;
    let mut event = sub.event("evt_d2", "created", T0 + 2, "active");
    event["data"]["object"]["metadata"] = serde_json::json!({});
    b.deliver(&event).await;
    assert_eq!(b.reason(user).await, Reason::Subscription);
}

#[tokio::test]
async fn an_older_event_never_regresses_a_newer_state() {
    let b = Billing::new().await;
    let user = b.user("+14155550106").await;
    let sub = Sub::new(user, 6);
    b.deliver(&sub.event("evt_e3", "deleted", T0 + 60 * DAY, "canceled"))
        .await;
    b.deliver(&sub.event("evt_e2", "updated", T0 + 30 * DAY, "active"))
        .await;
    b.deliver(&sub.event("evt_e1", "created", T0, "trialing"))
        .await;
    assert_eq!(b.state(user).await, "canceled");
    assert_eq!(b.reason(user).await, Reason::SubscriptionEnded);
}

#[tokio::test]
async fn a_refund_revokes_at_once_until_a_new_subscription_starts() {
    let b = Billing::new().await;
    let user = b.user("+14155550107").await;
    let sub = Sub::new(user, 7);
    b.deliver(&sub.event("evt_f1", "created", T0, "active"))
        .await;
    b.deliver(&sub.refund("evt_f2", T0 + DAY)).await;
    assert_eq!(b.reason(user).await, Reason::Revoked);
    assert!(!b.entitlement(user).await.unwrap().eligible);
    // Stripe still calls the refunded subscription active: access stays revoked.
    b.deliver(&sub.event("evt_f3", "updated", T0 + 2 * DAY, "active"))
        .await;
    assert_eq!(b.reason(user).await, Reason::Revoked);
    let texts = b.texts().await;
    assert!(texts.last().unwrap().contains("refund or payment dispute"));

    // A new subscription, created after the refund, entitles again.
    let mut renewed = Sub::new(user, 7);
    renewed.id = "sub_test7b".to_owned();
    renewed.created = T0 + 3 * DAY;
    b.deliver(&renewed.event("evt_f4", "created", T0 + 3 * DAY, "active"))
        .await;
    assert_eq!(b.reason(user).await, Reason::Subscription);
}

#[tokio::test]
async fn a_dispute_revokes_at_once_through_the_disputed_charges_customer() {
    let stripe = StripeReads::default();
    let base = stripe.serve().await;
    let b = Billing::with_stripe(&base).await;
    let user = b.user("+14155550108").await;
    let sub = Sub::new(user, 8);
    stripe.put(
        "ch_disputed",
        serde_json::json!({ "id": "ch_disputed", "object": "charge", "customer": "cus_test8" }),
    );
    b.deliver(&sub.event("evt_g1", "created", T0, "active"))
        .await;
    b.deliver(&sub.dispute("evt_g2", T0 + DAY, "ch_disputed"))
        .await;
    assert_eq!(b.reason(user).await, Reason::Revoked);
    assert_eq!(reasons(&b.changes().await), [R::Subscription, R::Revoked]);
}

#[tokio::test]
async fn reconciliation_applies_the_subscription_as_stripe_has_it_now_and_ends_expired_grace() {
    let stripe = StripeReads::default();
    let base = stripe.serve().await;
    let b = Billing::with_stripe(&base).await;
    let (u1, u2) = (b.user("+14155550109").await, b.user("+14155550110").await);
    let (s1, s2) = (Sub::new(u1, 9), Sub::new(u2, 10));
    b.deliver(&s1.event("evt_h1", "created", T0, "active"))
        .await;
    b.deliver(&s2.event("evt_h2", "updated", T0, "past_due"))
        .await;
    // The deletion webhook of s1 was lost; Stripe has it canceled. s2 is still past_due.
    let mut canceled = s1.event("evt_x", "deleted", T0, "canceled");
    stripe.put(&s1.id, canceled["data"]["object"].take());
    let mut still = s2.event("evt_y", "updated", T0, "past_due");
    stripe.put(&s2.id, still["data"]["object"].take());

    b.set_time(T0 + 8 * DAY);
    let report = reconcile::pass(&b.processor).await.unwrap();
    assert_eq!((report.refreshed, report.failed), (2, 0));
    assert_eq!(b.state(u1).await, "canceled");
    assert_eq!(b.reason(u1).await, Reason::SubscriptionEnded);
    assert_eq!(b.reason(u2).await, Reason::GraceExpired);
    // A second pass changes nothing and announces nothing.
    let before = b.changes().await.len();
    reconcile::pass(&b.processor).await.unwrap();
    assert_eq!(b.changes().await.len(), before);
}

#[tokio::test]
async fn a_deleted_customer_is_forgotten_and_not_relinked_by_its_last_events() {
    let b = Billing::new().await;
    let user = b.user("+14155550111").await;
    let sub = Sub::new(user, 11);
    b.deliver(&sub.checkout("evt_i1", T0)).await;
    b.deliver(&sub.event("evt_i2", "created", T0 + 1, "active"))
        .await;
    let deleted = serde_json::json!({
        "id": "evt_i3", "object": "event", "created": T0 + 2 * DAY, "type": "customer.deleted",
        "data": { "object": { "id": sub.customer, "object": "customer", "deleted": true } }
    });
    b.deliver(&deleted).await;
    b.deliver(&sub.event("evt_i4", "deleted", T0 + 2 * DAY, "canceled"))
        .await;
    let linked = b.count("select count(*) from stripe_customers").await;
    assert_eq!(linked, 0, "the next checkout creates a new customer");
    assert_eq!(b.reason(user).await, Reason::SubscriptionEnded);
}

/// `billing reconcile` (a scheduler's one pass) as the binary runs it: from its config, with only
/// Postgres and Stripe; `BILLING_RECONCILE_INTERVAL_SECS=0` turns the service's own pass off.
#[tokio::test]
async fn one_reconciliation_pass_from_the_config_as_a_scheduled_job_runs_it() {
    use platform::config::Env;

    let b = Billing::new().await;
    let user = b.user("+14155550119").await;
    b.deliver(&Sub::new(user, 19).checkout("evt_c19", T0)).await;
    b.set_time(T0 + 16 * 60);

    let database_url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3Djosh_billing",
        b.db.postgres_addr().unwrap(),
        b.db.name
    );
    let config = |interval: Option<&str>| {
        let mut env = testkit::service::service_env(&database_url, "nats://127.0.0.1:1");
        let mut set = vec![
            ("STRIPE_SECRET_KEY", "sk_test_x"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ("STRIPE_API_BASE", "http://127.0.0.1:1"),
        ];
        set.extend(interval.map(|v| ("BILLING_RECONCILE_INTERVAL_SECS", v)));
        for (name, value) in set {
            env.retain(|(n, _)| n != name);
            env.push((name.to_owned(), value.to_owned()));
        }
        billing::Config::from_env(&Env::from_pairs(env))
    };
    assert_eq!(
        config(None).unwrap().reconcile_interval,
        Some(reconcile::PERIOD)
    );
    assert_eq!(
        config(Some("60")).unwrap().reconcile_interval,
        Some(std::time::Duration::from_secs(60))
    );
    let refused = config(Some("soon")).unwrap_err().to_string();
    assert!(
        refused.contains("BILLING_RECONCILE_INTERVAL_SECS"),
        "{refused}"
    );
    let config = config(Some("0")).unwrap();
    assert_eq!(config.reconcile_interval, None);

    let report = billing::reconcile_once(&config, std::sync::Arc::new(b.clock.clone()))
        .await
        .unwrap();
    assert_eq!(report.expired, 1);
    assert_eq!(b.reason(user).await, Reason::NoSubscription);
}
