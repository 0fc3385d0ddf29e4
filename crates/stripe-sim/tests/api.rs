//! The simulator's API answers like Stripe's (auth, errors, idempotency) and its actions fire
//! correctly signed events, checked here with an independent HMAC.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use stripe_sim::{SimConfig, StripeSim};

const KEY: &str = "sk_test_sim";
const WHSEC: &str = "whsec_sim";

type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// A webhook receiver; returns its URL and what it got (signature header, raw body).
async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let sig = headers["stripe-signature"].to_str().unwrap().to_owned();
                sink.lock().unwrap().push((sig, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

fn valid(header: &str, body: &[u8]) -> bool {
    let t = header
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .unwrap();
    let v1 = header
        .split(',')
        .find_map(|p| p.strip_prefix("v1="))
        .unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(WHSEC.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

async fn post(
    sim: &StripeSim,
    path: &str,
    form: &[(&str, &str)],
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/{path}", sim.base_url()))
        .basic_auth(KEY, Some(""))
        .form(form);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_api_checks_the_key_and_replays_idempotent_requests() {
    let sim = StripeSim::start(SimConfig::new(KEY, WHSEC)).await.unwrap();
    let unauthorized = reqwest::Client::new()
        .post(format!("{}/v1/customers", sim.base_url()))
        .basic_auth("sk_test_wrong", Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status().as_u16(), 401);
    let (status, a) = post(
        &sim,
        "customers",
        &[("metadata[user_id]", "u1")],
        Some("k1"),
    )
    .await;
    let (_, b) = post(
        &sim,
        "customers",
        &[("metadata[user_id]", "u1")],
        Some("k1"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["metadata"]["user_id"], "u1");
    assert_eq!(sim.objects("customer").len(), 1);
    let (status, error) = post(
        &sim,
        "checkout/sessions",
        &[("mode", "subscription"), ("customer", "cus_nope")],
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(error["error"]["message"].is_string());
}

#[tokio::test]
async fn paying_failing_and_canceling_fire_signed_stripe_shaped_events() {
    let (url, got) = receiver().await;
    let sim = StripeSim::start(SimConfig {
        webhook_url: Some(url),
        ..SimConfig::new(KEY, WHSEC)
    })
    .await
    .unwrap();
    let (_, customer) = post(&sim, "customers", &[], None).await;
    let cus = customer["id"].as_str().unwrap();
    let (_, session) = post(
        &sim,
        "checkout/sessions",
        &[
            ("mode", "subscription"),
            ("customer", cus),
            ("client_reference_id", "user-1"),
            ("line_items[0][price]", "price_josh_annual"),
            ("subscription_data[metadata][user_id]", "user-1"),
        ],
        None,
    )
    .await;
    assert!(
        session["url"]
            .as_str()
            .unwrap()
            .starts_with(&sim.base_url())
    );
    assert_eq!(session["amount_total"], 39_900);
    assert_eq!(sim.pay(session["id"].as_str().unwrap()).await.unwrap(), 4);
    let sub = sim.objects("subscription")[0].clone();
    let sub_id = sub["id"].as_str().unwrap();
    assert_eq!(sub["metadata"]["user_id"], "user-1");
    assert!(
        sub.pointer("/items/data/0/current_period_end")
            .unwrap()
            .is_i64()
    );
    sim.fail_next_invoice(sub_id).await.unwrap();
    sim.cancel(sub_id).await.unwrap();
    assert!(
        sim.pay(session["id"].as_str().unwrap()).await.is_err(),
        "a session is paid once"
    );

    let got = got.lock().unwrap().clone();
    let types: Vec<String> = got
        .iter()
        .map(|(header, body)| {
            assert!(
                valid(header, body),
                "signature of {}",
                String::from_utf8_lossy(body)
            );
            let event: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(event["object"], "event");
            assert!(event["id"].as_str().unwrap().starts_with("evt_"));
            event["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "customer.subscription.created",
            "invoice.paid",
            "invoice.payment_succeeded",
            "checkout.session.completed",
            "invoice.payment_failed",
            "customer.subscription.updated",
            "customer.subscription.deleted",
        ]
    );
    let updated: Value = serde_json::from_slice(&got[5].1).unwrap();
    assert_eq!(updated["data"]["object"]["status"], "past_due");
    assert_eq!(updated["data"]["previous_attributes"]["status"], "active");
    let failed: Value = serde_json::from_slice(&got[4].1).unwrap();
    assert_eq!(
        failed["data"]["object"]["parent"]["subscription_details"]["subscription"],
        sub_id
    );
}

async fn delete(sim: &StripeSim, path: &str, key: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .delete(format!("{}/v1/{path}", sim.base_url()))
        .basic_auth(key, Some(""))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn deleting_a_subscription_cancels_it_now_once_and_fires_the_deleted_event() {
    let (url, got) = receiver().await;
    let sim = StripeSim::start(SimConfig {
        webhook_url: Some(url),
        ..SimConfig::new(KEY, WHSEC)
    })
    .await
    .unwrap();
    let (_, customer) = post(&sim, "customers", &[], None).await;
    let form = [
        ("mode", "subscription"),
        ("customer", customer["id"].as_str().unwrap()),
        ("line_items[0][price]", "price_josh_monthly"),
    ];
    let (_, session) = post(&sim, "checkout/sessions", &form, None).await;
    sim.pay(session["id"].as_str().unwrap()).await.unwrap();
    let sub_id = sim.objects("subscription")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("subscriptions/{sub_id}");
    let before = got.lock().unwrap().len();

    let (status, _) = delete(&sim, &path, "sk_test_wrong").await;
    assert_eq!(status, 401);
    let (status, canceled) = delete(&sim, &path, KEY).await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["id"], sub_id.as_str());
    assert_eq!(canceled["status"], "canceled");
    assert!(canceled["canceled_at"].is_i64());
    let (status, again) = delete(&sim, &path, KEY).await;
    assert_eq!(
        status, 400,
        "an ended subscription is not canceled twice: {again}"
    );
    let (status, _) = delete(&sim, "subscriptions/sub_nope", KEY).await;
    assert_eq!(status, 404);

    let got = got.lock().unwrap().clone();
    let fired: Vec<Value> = got[before..]
        .iter()
        .map(|(_, body)| serde_json::from_slice(body).unwrap())
        .collect();
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0]["type"], "customer.subscription.deleted");
    assert_eq!(fired[0]["data"]["object"]["id"], sub_id.as_str());
}
