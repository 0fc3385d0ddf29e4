//! Stripe duplicates events and guarantees no order. Properties: any permutation, with duplicates,
//! of a subscription's event history ends in the same subscription and entitlement as in-order
//! delivery, both when events are applied by their own timestamps (histories with distinct
//! seconds) and, as in production, when each event re-fetches the subscription (real histories
//! from the simulator, where several events share a second: timestamps alone fail there).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{Billing, DAY, Sub, T0};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// One subscription's whole life: checkout, trial, activation, a failed renewal and its
/// recovery, cancel at period end, deletion (with the invoices in between).
fn history(sub: &Sub, tag: &str) -> Vec<Value> {
    let id = |n: usize| format!("evt_{tag}_{n}");
    let mut cancel_at_end = sub.event(&id(8), "updated", T0 + 50 * DAY, "active");
    cancel_at_end["data"]["object"]["cancel_at_period_end"] = Value::Bool(true);
    vec![
        sub.checkout(&id(0), T0),
        sub.event(&id(1), "created", T0 + 1, "trialing"),
        sub.invoice(&id(2), "paid", T0 + 2),
        sub.event(&id(3), "updated", T0 + 14 * DAY, "active"),
        sub.invoice(&id(4), "payment_failed", T0 + 44 * DAY),
        sub.event(&id(5), "updated", T0 + 44 * DAY + 1, "past_due"),
        sub.invoice(&id(6), "paid", T0 + 46 * DAY),
        sub.event(&id(7), "updated", T0 + 46 * DAY + 1, "active"),
        cancel_at_end,
        sub.event(&id(9), "deleted", T0 + 76 * DAY, "canceled"),
    ]
}

const LEN: usize = 10;

/// A prefix of the history (so every final state is reached), then its indices shuffled with
/// some delivered more than once.
fn deliveries() -> impl Strategy<Value = (usize, Vec<usize>)> {
    (1..=LEN).prop_flat_map(|prefix| {
        let dups = proptest::collection::vec(0..prefix, 0..prefix);
        dups.prop_flat_map(move |dups| {
            let mut order: Vec<usize> = (0..prefix).collect();
            order.extend(dups);
            Just(order).prop_shuffle().prop_map(move |o| (prefix, o))
        })
    })
}

type Outcome = (bool, String, Option<i64>, String, Option<i64>, bool);

async fn outcome(b: &Billing, user: Uuid) -> Outcome {
    let ent = b.entitlement(user).await.unwrap();
    let (state, grace, cancel): (String, Option<time::OffsetDateTime>, bool) = sqlx::query_as(
        "select state::text, grace_until, cancel_at_period_end from subscriptions where user_id = $1",
    )
    .bind(user)
    .fetch_one(&b.db.pool)
    .await
    .unwrap();
    (
        ent.eligible,
        ent.reason.as_str().to_owned(),
        ent.expires_at.map(|t| t.unix_timestamp()),
        state,
        grace.map(|t| t.unix_timestamp()),
        cancel,
    )
}

#[test]
fn any_order_with_duplicates_ends_like_in_order_delivery() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(Billing::new());
    let cases = AtomicU32::new(0);
    let config = ProptestConfig {
        cases: 40,
        ..ProptestConfig::default()
    };
    proptest!(config, |((prefix, order) in deliveries(), now_day in prop_oneof![Just(0i64), Just(45), Just(48), Just(60), Just(80)])| {
        let n = cases.fetch_add(1, Ordering::SeqCst);
        let (expected, actual) = rt.block_on(async {
            b.set_time(T0 + now_day * DAY);
            let (u1, u2) = (b.user(&format!("+1415600{n:04}")).await, b.user(&format!("+1415700{n:04}")).await);
            let in_order = Sub::new(u1, 1000 + 2 * n);
            for event in history(&in_order, &format!("ref{n}")).iter().take(prefix) {
                b.deliver(event).await;
            }
            let shuffled = Sub::new(u2, 1001 + 2 * n);
            let events = history(&shuffled, &format!("perm{n}"));
            for &i in &order {
                b.deliver(&events[i]).await;
            }
            (outcome(&b, u1).await, outcome(&b, u2).await)
        });
        prop_assert_eq!(expected, actual, "prefix {} order {:?}", prefix, order);
    });
}

/// What the simulator's webhooks carried, raw.
type Captured = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;

async fn capture() -> (String, Captured) {
    let got: Captured = std::sync::Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

/// A real history from the simulator for `user`: checkout paid, then the first `steps` of
/// fail / renew / fail / cancel. Returns its events and the subscription's final status.
async fn simulated_history(sim: &stripe_sim::StripeSim, user: Uuid, steps: usize) -> String {
    let http = reqwest::Client::new();
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        http.post(format!("{}/v1/{path}", sim.base_url()))
            .basic_auth("sk_test_x", Some(""))
            .form(&form)
            .send()
    };
    let customer: Value = post("customers", vec![])
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let form = vec![
        ("mode", "subscription".to_owned()),
        ("customer", customer["id"].as_str().unwrap().to_owned()),
        ("client_reference_id", user.to_string()),
        ("line_items[0][price]", "price_josh_monthly".to_owned()),
        ("subscription_data[metadata][user_id]", user.to_string()),
    ];
    let session: Value = post("checkout/sessions", form)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sim.pay(session["id"].as_str().unwrap()).await.unwrap();
    let sub = sim
        .objects("subscription")
        .into_iter()
        .find(|s| s["customer"] == customer["id"])
        .unwrap();
    let id = sub["id"].as_str().unwrap();
    for step in 0..steps {
        match step {
            0 | 2 => sim.fail_next_invoice(id).await.unwrap(),
            1 => sim.renew(id).await.unwrap(),
            _ => sim.cancel(id).await.unwrap(),
        };
    }
    let now = sim
        .objects("subscription")
        .into_iter()
        .find(|s| s["id"] == id)
        .unwrap();
    now["status"].as_str().unwrap().to_owned()
}

#[test]
fn with_re_fetching_any_order_with_duplicates_ends_in_stripes_current_state() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (sim, b, got) = rt.block_on(async {
        let sim =
            stripe_sim::StripeSim::start(stripe_sim::SimConfig::new("sk_test_x", common::SECRET))
                .await
                .unwrap();
        let (url, got) = capture().await;
        sim.set_webhook_url(url);
        let b = Billing::refetching(&sim.base_url()).await;
        b.clock.set(time::OffsetDateTime::now_utc());
        (sim, b, got)
    });
    let cases = AtomicU32::new(0);
    let config = ProptestConfig {
        cases: 12,
        ..ProptestConfig::default()
    };
    let strategy = (
        0usize..=4,
        proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        any::<u64>(),
    );
    proptest!(config, |((steps, dups, seed) in strategy)| {
        let n = cases.fetch_add(1, Ordering::SeqCst);
        let (status, outcome) = rt.block_on(async {
            let user = b.user(&format!("+1415800{n:04}")).await;
            got.lock().unwrap().clear();
            let status = simulated_history(&sim, user, steps).await;
            let mut events: Vec<Value> = got.lock().unwrap().clone();
            let extra: Vec<Value> = dups.iter().map(|i| events[i.index(events.len())].clone()).collect();
            events.extend(extra);
            // A deterministic shuffle from the seed (proptest shrinks the seed).
            let mut state = seed | 1;
            for i in (1..events.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                events.swap(i, usize::try_from(state % (i as u64 + 1)).unwrap());
            }
            for event in &events {
                b.deliver(event).await;
            }
            (status, outcome(&b, user).await)
        });
        let expected = match status.as_str() {
            "active" => "subscription",
            "past_due" => "grace",
            _ => "subscription_ended",
        };
        prop_assert_eq!(&outcome.1, expected);
        prop_assert_eq!(&outcome.3, &status);
    });
}
