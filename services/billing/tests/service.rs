//! The whole service, as `main` runs it, against the Stripe simulator and a private NATS: a
//! webhook is answered at once and processed in the background, the gRPC API answers from the
//! result, and the change reaches JetStream through the outbox relay. `BillingAdmin` answers on
//! the same gRPC port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration;

use billing::{Config, Service};
use platform::config::Env;
use rpc::admin::v1::billing_admin_client::BillingAdminClient;
use rpc::billing::v1 as api;
use rpc::billing::v1::billing_client::BillingClient;
use stripe_sim::{SimConfig, StripeSim};
use testkit::{NatsServer, TestDb, wait_until};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const KEY: &str = "sk_test_service";
const WHSEC: &str = "whsec_service";

#[tokio::test]
async fn a_paid_checkout_becomes_an_entitlement_and_an_event_on_the_bus() {
    let db = TestDb::migrated().await.unwrap();
    let nats = NatsServer::start().await.unwrap();
    let sim = StripeSim::start(SimConfig::new(KEY, WHSEC)).await.unwrap();
    let database_url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3Djosh_billing",
        db.postgres_addr().unwrap(),
        db.name
    );
    let mut env = testkit::service::service_env(&database_url, &nats.url());
    for (name, value) in [
        ("HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("GRPC_ADDR", "127.0.0.1:0".to_owned()),
        ("STRIPE_SECRET_KEY", KEY.to_owned()),
        ("STRIPE_WEBHOOK_SECRET", WHSEC.to_owned()),
        ("STRIPE_API_BASE", sim.base_url()),
    ] {
        env.retain(|(n, _)| n != name);
        env.push((name.to_owned(), value));
    }
    let config = Config::from_env(&Env::from_pairs(env)).unwrap();
    let service = Service::build(config).await.unwrap();
    sim.set_webhook_url(format!("http://{}/v1/stripe/webhook", service.http_addr()));
    let grpc = service.grpc_addr().unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));

    let user: Uuid = sqlx::query_scalar(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                            sms_consent, age_consent, terms_consent, privacy_consent)
         values ('+14155550130', 'hash-130', 'Ada', 'Lovelace', '1990-12-10', true, true, true, true)
         returning id",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let mut client = BillingClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let link = client
        .create_checkout_link(api::CreateCheckoutLinkRequest {
            user_id: user.to_string(),
            plan: api::Plan::Annual.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let session = link.url.rsplit('/').next().unwrap();
    assert_eq!(
        sim.pay(session).await.unwrap(),
        4,
        "every webhook answered 2xx"
    );

    let request = api::GetEntitlementRequest {
        user_id: user.to_string(),
    };
    wait_until("the entitlement", Duration::from_secs(30), || {
        let (mut client, request) = (client.clone(), request.clone());
        async move {
            let e = client.get_entitlement(request).await.unwrap().into_inner();
            e.eligible_to_participate && e.reason() == api::Reason::Subscription
        }
    })
    .await
    .unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    wait_until(
        "billing.entitlement_changed on JetStream",
        Duration::from_secs(30),
        || async {
            match js.get_stream(bus::subjects::EVENTS_STREAM).await {
                Ok(mut stream) => stream.info().await.is_ok_and(|i| i.state.messages >= 1),
                Err(_) => false,
            }
        },
    )
    .await
    .unwrap();
    // The four events of the payment were all stored and are all processed (in the background).
    wait_until(
        "every stored event processed",
        Duration::from_secs(30),
        || async {
            let (stored, processed): (i64, i64) =
                sqlx::query_as("select count(*), count(processed_at) from stripe_events")
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            stored == 4 && processed == 4
        },
    )
    .await
    .unwrap();
    // BillingAdmin is served on the same port.
    let token = admin_auth::testing::token(&db.pool, "support").await;
    let request = rpc::admin::v1::ShowBillingRequest {
        user_id: user.to_string(),
        events: 0,
    };
    let view = BillingAdminClient::new(client_channel(grpc))
        .show_billing(admin_auth::testing::authed(request, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(view.subscriptions[0].status, "active");
    assert_eq!(view.events.len(), 4);

    shutdown.cancel();
    running.await.unwrap().unwrap();
}

fn client_channel(addr: std::net::SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy()
}
