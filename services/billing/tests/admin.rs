//! BillingAdmin served in-process on port 0 against the Stripe simulator: a paying member's
//! customer, subscription, entitlement and events (failed ones too), and their export; every
//! action is refused for a role that may not use it and without a token, and leaves an audit
//! row. And a deleted account's running subscription is canceled at Stripe, once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::Arc;

use admin_auth::testing::{self, authed};
use billing::admin::BillingAdminApi;
use billing::config::Prices;
use billing::erasure::ErasureHandler;
use billing::grpc::BillingApi;
use billing::stripe::StripeClient;
use common::{Billing, SECRET};
use proto::Envelope;
use proto::v1::UserDeleted;
use rpc::admin::v1 as api;
use rpc::admin::v1::billing_admin_client::BillingAdminClient;
use rpc::billing::v1 as billing_api;
use rpc::billing::v1::billing_client::BillingClient;
use stripe_sim::{SimConfig, StripeSim};
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;
use uuid::Uuid;

struct Stack {
    b: Billing,
    sim: StripeSim,
    admin: BillingAdminClient<Channel>,
}

fn stripe(sim: &StripeSim) -> StripeClient {
    StripeClient::new(&sim.base_url(), "sk_test_x".to_owned().into()).unwrap()
}

async fn stack() -> Stack {
    let sim = StripeSim::start(SimConfig::new("sk_test_x", SECRET))
        .await
        .unwrap();
    let b = Billing::refetching(&sim.base_url()).await;
    // The simulator signs with real time.
    b.clock.set(time::OffsetDateTime::now_utc());
    sim.set_webhook_url(b.serve_webhook().await);
    let admin = BillingAdminApi::new(b.pool.clone(), Arc::new(b.clock.clone()));
    let served = testing::serve(Routes::new(admin.into_server())).await;
    Stack {
        admin: BillingAdminClient::new(served.channel),
        b,
        sim,
    }
}

/// A member who paid on the simulator's checkout page; returns their user id.
async fn paying_member(s: &Stack, phone: &str) -> Uuid {
    let user = s.b.user(phone).await;
    let api = BillingApi::new(
        s.b.pool.clone(),
        stripe(&s.sim),
        Arc::new(s.b.clock.clone()),
        Prices {
            monthly: "price_josh_monthly".to_owned(),
            annual: "price_josh_annual".to_owned(),
        },
        "https://josh.example".to_owned(),
    );
    let served = testing::serve(Routes::new(api.into_server())).await;
    let link = BillingClient::new(served.channel)
        .create_checkout_link(billing_api::CreateCheckoutLinkRequest {
            user_id: user.to_string(),
            plan: billing_api::Plan::Monthly.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let session = link.url.rsplit('/').next().unwrap().to_owned();
    s.sim.pay(&session).await.unwrap();
    s.b.processor.process_pending().await.unwrap();
    assert_eq!(s.b.state(user).await, "active");
    user
}

fn show(user: Uuid) -> api::ShowBillingRequest {
    api::ShowBillingRequest {
        user_id: user.to_string(),
        events: 0,
    }
}

#[tokio::test]
async fn show_billing_gives_any_role_the_membership_and_failed_events_and_is_audited() {
    let s = stack().await;
    let user = paying_member(&s, "+14155550141").await;
    let customer = s.sim.objects("customer")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sqlx::query(
        "insert into stripe_events (stripe_event_id, event_type, payload, processing_error)
         values ('evt_broken', 'invoice.paid', $1, 'malformed event')",
    )
    .bind(serde_json::json!({"data": {"object": {"object": "invoice", "customer": customer}}}))
    .execute(&s.b.db.pool)
    .await
    .unwrap();
    let mut client = s.admin.clone();
    let support = testing::token(&s.b.db.pool, "support").await;

    let view = client
        .show_billing(authed(show(user), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(view.stripe_customer_id, customer);
    let sub = &view.subscriptions[0];
    assert_eq!(sub.status, "active");
    assert!(sub.stripe_subscription_id.starts_with("sub_"));
    assert!(sub.current_period_end.is_some());
    let entitlement = view.entitlement.unwrap();
    assert!(entitlement.eligible_now && entitlement.eligible_to_participate);
    assert_eq!(entitlement.reason, "subscription");
    let types: Vec<&str> = view.events.iter().map(|e| e.event_type.as_str()).collect();
    assert!(types.contains(&"checkout.session.completed"), "{types:?}");
    assert_eq!(view.events[0].stripe_event_id, "evt_broken", "newest first");
    let failed: Vec<(&str, &str)> = view
        .failed_events
        .iter()
        .map(|e| (e.stripe_event_id.as_str(), e.processing_error.as_str()))
        .collect();
    assert_eq!(failed, [("evt_broken", "malformed event")]);
    let nobody = client
        .show_billing(authed(show(Uuid::new_v4()), &support))
        .await
        .unwrap()
        .into_inner();
    assert!(nobody.stripe_customer_id.is_empty() && nobody.entitlement.is_none());

    let anonymous = client.show_billing(show(user)).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let malformed = api::ShowBillingRequest {
        user_id: "+14155550141".to_owned(),
        events: 0,
    };
    let malformed = client.show_billing(authed(malformed, &support)).await;
    assert_eq!(malformed.unwrap_err().code(), Code::InvalidArgument);
    let rows = testing::audit_rows(&s.b.db.pool, "billing.show").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].target_id, Some(user));
    assert_eq!(rows[0].outcome, None);
}

#[tokio::test]
async fn export_gives_support_and_engineering_the_rows_without_payloads_and_refuses_ops() {
    let s = stack().await;
    let user = paying_member(&s, "+14155550142").await;
    let mut client = s.admin.clone();
    let export = |reason: &str| api::UserExportRequest {
        user_id: user.to_string(),
        reason: reason.to_owned(),
    };
    let ops = testing::token(&s.b.db.pool, "ops").await;
    let engineering = testing::token(&s.b.db.pool, "engineering").await;

    let denied = client.export_user(authed(export("ticket 7"), &ops)).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = client.export_user(export("ticket 7")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client.export_user(authed(export(" "), &engineering)).await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);

    let done = client
        .export_user(authed(export("ticket 7"), &engineering))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.service, "billing");
    let doc: serde_json::Value = serde_json::from_str(&done.document_json).unwrap();
    let customer = s.sim.objects("customer")[0]["id"].clone();
    assert_eq!(doc["stripe_customers"][0]["stripe_customer_id"], customer);
    assert_eq!(doc["subscriptions"][0]["state"], "active");
    assert!(doc["subscriptions"][0].get("checkout_session_id").is_none());
    assert_eq!(doc["entitlements"][0]["eligible_to_participate"], true);
    let events = doc["stripe_events"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|e| e.get("payload").is_none()),
        "{events:?}"
    );
    assert!(
        !done.document_json.contains("checkout/cs_"),
        "no checkout links"
    );

    let rows = testing::audit_rows(&s.b.db.pool, "user.export").await;
    let outcomes: Vec<Option<&str>> = rows.iter().map(|r| r.outcome.as_deref()).collect();
    assert_eq!(outcomes, [Some("denied"), None]);
    assert_eq!(rows[1].reason.as_deref(), Some("ticket 7"));
    assert_eq!(rows[1].target_id, Some(user));
}

fn deleted(user: Uuid, n: u32) -> Envelope {
    let fact = UserDeleted {
        user_id: user.to_string(),
        ..UserDeleted::default()
    };
    Envelope {
        event_id: Uuid::now_v7().to_string(),
        idempotency_key: format!("identity.user_deleted:{user}:{n}"),
        ..Envelope::for_payload(fact)
    }
}

#[tokio::test]
async fn a_deleted_members_subscription_is_canceled_at_stripe_once() {
    let s = stack().await;
    let user = paying_member(&s, "+14155550143").await;
    let bystander = paying_member(&s, "+14155550144").await;
    let erasure = ErasureHandler::new(Arc::new(s.b.clock.clone()), stripe(&s.sim));
    let status = |sub: &serde_json::Value| sub["status"].as_str().unwrap().to_owned();
    let mine = s.b.db.pool.clone();
    let sub_of = |user: Uuid| {
        let pool = mine.clone();
        async move {
            let id: String = sqlx::query_scalar(
                "select stripe_subscription_id from subscriptions where user_id = $1",
            )
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap();
            id
        }
    };
    let (sub, other) = (sub_of(user).await, sub_of(bystander).await);

    bus::deliver(&s.b.pool, billing::SERVICE, &erasure, &deleted(user, 1))
        .await
        .unwrap();
    let at_stripe = |id: &str| {
        s.sim
            .objects("subscription")
            .into_iter()
            .find(|o| o["id"] == id)
            .unwrap()
    };
    assert_eq!(status(&at_stripe(&sub)), "canceled");
    assert_eq!(status(&at_stripe(&other)), "active", "only theirs");
    let deleted_events = "select count(*) from stripe_events
                           where event_type = 'customer.subscription.deleted'";
    assert_eq!(s.b.count(deleted_events).await, 1);

    // A second deletion fact (a replay under a new id) before billing applied Stripe's event:
    // the row still says active, Stripe says canceled, so nothing is canceled again.
    bus::deliver(&s.b.pool, billing::SERVICE, &erasure, &deleted(user, 2))
        .await
        .unwrap();
    assert_eq!(s.b.count(deleted_events).await, 1, "no second cancel");
    s.b.processor.process_pending().await.unwrap();
    assert_eq!(
        s.b.state(user).await,
        "canceled",
        "Stripe's own event applied"
    );
    assert_eq!(s.b.state(bystander).await, "active");
}
