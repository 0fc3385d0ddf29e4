//! The `Billing` gRPC API over a real port, against the Stripe simulator (in process, port 0),
//! whose actions fire signed webhooks at billing's webhook route: the whole billing story offline.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::Arc;

use billing::config::Prices;
use billing::entitlement::Reason;
use billing::grpc::BillingApi;
use billing::reconcile;
use billing::stripe::StripeClient;
use common::{Billing, SECRET};
use rpc::billing::v1 as api;
use rpc::billing::v1::billing_client::BillingClient;
use stripe_sim::{SimConfig, StripeSim};
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

struct Stack {
    b: Billing,
    sim: StripeSim,
    client: BillingClient<Channel>,
}

async fn stack() -> Stack {
    let sim = StripeSim::start(SimConfig::new("sk_test_x", SECRET))
        .await
        .unwrap();
    let b = Billing::refetching(&sim.base_url()).await;
    // The simulator signs with real time.
    b.clock.set(time::OffsetDateTime::now_utc());
    sim.set_webhook_url(b.serve_webhook().await);
    let api = BillingApi::new(
        b.pool.clone(),
        StripeClient::new(&sim.base_url(), "sk_test_x".to_owned().into()).unwrap(),
        Arc::new(b.clock.clone()),
        Prices {
            monthly: "price_josh_monthly".to_owned(),
            annual: "price_josh_annual".to_owned(),
        },
        "https://josh.example".to_owned(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(api.into_server())
            .serve_with_incoming(incoming),
    );
    let client = BillingClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    Stack { b, sim, client }
}

async fn checkout(client: &BillingClient<Channel>, user: Uuid) -> Result<api::Link, tonic::Status> {
    checkout_plan(client, user, api::Plan::Monthly).await
}

async fn checkout_plan(
    client: &BillingClient<Channel>,
    user: Uuid,
    plan: api::Plan,
) -> Result<api::Link, tonic::Status> {
    let mut client = client.clone();
    client
        .create_checkout_link(api::CreateCheckoutLinkRequest {
            user_id: user.to_string(),
            plan: plan.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn entitlement(client: &BillingClient<Channel>, user: Uuid) -> api::Entitlement {
    let mut client = client.clone();
    client
        .get_entitlement(api::GetEntitlementRequest {
            user_id: user.to_string(),
        })
        .await
        .unwrap()
        .into_inner()
}

fn session_id(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn parallel_checkout_links_make_one_customer_and_one_live_subscription() {
    let s = stack().await;
    let user = s.b.user("+14155550120").await;
    let links = futures::future::join_all((0..8).map(|_| checkout(&s.client, user))).await;
    let urls: Vec<String> = links.into_iter().map(|l| l.unwrap().url).collect();
    assert!(
        urls.iter().all(|u| *u == urls[0]),
        "one checkout session: {urls:?}"
    );
    assert_eq!(s.sim.objects("customer").len(), 1);
    assert_eq!(s.sim.objects("checkout.session").len(), 1);
    assert_eq!(s.b.count("select count(*) from stripe_customers").await, 1);

    // Asked again for the same plan: the open session again. Another plan: the open one is
    // expired first, so only one checkout is ever payable.
    assert_eq!(checkout(&s.client, user).await.unwrap().url, urls[0]);
    let annual = checkout_plan(&s.client, user, api::Plan::Annual)
        .await
        .unwrap();
    assert_ne!(annual.url, urls[0]);
    let statuses: Vec<String> = s
        .sim
        .objects("checkout.session")
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["expired", "open"]);
    assert!(
        s.sim.pay(&session_id(&urls[0])).await.is_err(),
        "the expired one cannot be paid"
    );

    let session = session_id(&annual.url);
    assert_eq!(
        s.sim.pay(&session).await.unwrap(),
        4,
        "every webhook accepted"
    );
    s.b.processor.process_pending().await.unwrap();
    let e = entitlement(&s.client, user).await;
    assert!(e.eligible_to_participate && e.eligible_to_initiate);
    assert_eq!(
        (e.reason(), e.subscription_state.as_str()),
        (api::Reason::Subscription, "active")
    );

    let again = futures::future::join_all((0..8).map(|_| checkout(&s.client, user))).await;
    assert!(again.iter().all(|r| {
        r.as_ref()
            .is_err_and(|e| e.code() == Code::FailedPrecondition)
    }));
    assert_eq!(s.sim.objects("subscription").len(), 1);
    assert_eq!(s.sim.objects("customer").len(), 1);

    let mut client = s.client.clone();
    let portal = client
        .create_portal_link(api::CreatePortalLinkRequest {
            user_id: user.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    let customer = s.sim.objects("customer")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        portal.url.ends_with(&format!("/portal/{customer}")),
        "{}",
        portal.url
    );
}

#[tokio::test]
async fn the_whole_story_through_the_simulator_pages_actions() {
    let s = stack().await;
    let user = s.b.user("+14155550121").await;
    let link = checkout(&s.client, user).await.unwrap();
    // The page a member opens, with its buttons.
    let page = reqwest::get(&link.url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Pay") && page.contains("$39.99"), "{page}");
    let pay = format!("{}/pay", link.url);
    assert!(
        reqwest::Client::new()
            .post(&pay)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    s.b.processor.process_pending().await.unwrap();
    assert_eq!(s.b.reason(user).await, Reason::Subscription);

    let sub = s.sim.objects("subscription")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.sim.fail_next_invoice(&sub).await.unwrap(), 2);
    s.b.processor.process_pending().await.unwrap();
    let e = entitlement(&s.client, user).await;
    assert_eq!(
        (e.eligible_to_participate, e.reason()),
        (true, api::Reason::Grace)
    );
    assert!(e.expires_at.is_some());

    s.sim.renew(&sub).await.unwrap();
    s.b.processor.process_pending().await.unwrap();
    assert_eq!(s.b.reason(user).await, Reason::Subscription);

    // A dispute: billing looks the charge's customer up in the simulator's API.
    let charge = s.sim.objects("charge").last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.sim.refund(&charge, true).await.unwrap();
    s.b.processor.process_pending().await.unwrap();
    let e = entitlement(&s.client, user).await;
    assert_eq!(
        (e.eligible_to_participate, e.reason()),
        (false, api::Reason::Revoked)
    );

    s.sim.cancel(&sub).await.unwrap();
    s.b.processor.process_pending().await.unwrap();
    let failed =
        s.b.count("select count(*) from stripe_events where processed_at is null")
            .await;
    assert_eq!(failed, 0);
    assert_eq!(s.b.state(user).await, "canceled");
}

#[tokio::test]
async fn reconciliation_catches_a_cancellation_whose_webhook_was_lost() {
    let s = stack().await;
    let user = s.b.user("+14155550122").await;
    let link = checkout(&s.client, user).await.unwrap();
    s.sim.pay(&session_id(&link.url)).await.unwrap();
    s.b.processor.process_pending().await.unwrap();
    let sub = s.sim.objects("subscription")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.sim.set_webhook_url("http://127.0.0.1:1/lost");
    assert_eq!(
        s.sim.cancel(&sub).await.unwrap(),
        0,
        "the webhook never arrived"
    );
    assert_eq!(s.b.state(user).await, "active");

    s.b.clock.advance(time::Duration::minutes(15));
    let report = reconcile::pass(&s.b.processor).await.unwrap();
    assert_eq!(report.refreshed, 1);
    assert_eq!(s.b.state(user).await, "canceled");
    assert_eq!(s.b.reason(user).await, Reason::SubscriptionEnded);
}

#[tokio::test]
async fn entitlements_of_unknown_users_and_bad_ids() {
    let s = stack().await;
    let e = entitlement(&s.client, Uuid::new_v4()).await;
    assert_eq!(
        (e.eligible_to_participate, e.reason()),
        (false, api::Reason::NoSubscription)
    );
    let mut client = s.client.clone();
    let bad = client
        .get_entitlement(api::GetEntitlementRequest {
            user_id: "nope".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let missing = checkout(&s.client, Uuid::new_v4()).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let no_customer = client
        .create_portal_link(api::CreatePortalLinkRequest {
            user_id: Uuid::new_v4().to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(no_customer.code(), Code::NotFound);
}

#[tokio::test]
async fn reconciliation_completes_a_paid_checkout_whose_webhooks_were_lost() {
    let s = stack().await;
    let user = s.b.user("+14155550123").await;
    let link = checkout(&s.client, user).await.unwrap();
    s.sim.set_webhook_url("http://127.0.0.1:1/lost");
    assert_eq!(s.sim.pay(&session_id(&link.url)).await.unwrap(), 0);
    assert!(s.b.entitlement(user).await.is_none());

    let report = reconcile::pass(&s.b.processor).await.unwrap();
    assert_eq!((report.refreshed, report.failed), (1, 0));
    assert_eq!(s.b.state(user).await, "active");
    assert_eq!(s.b.reason(user).await, Reason::Subscription);
    // Nothing left to complete: the next pass refreshes it as a live subscription.
    let again = reconcile::pass(&s.b.processor).await.unwrap();
    assert_eq!(again.refreshed, 1);
}
